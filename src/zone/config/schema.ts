// JSON Schema of a zone configuration (draft-07, compiled by ajv in
// validate.ts). Everything a config file may contain is declared here; the
// only checks done in code are the ones a schema cannot express because they
// need the host's filesystem (host-paths.ts) or the zone's /etc/passwd (user.ts).
//
// `x-rule` is an annotation of ours: the sentence the error message uses
// instead of an unreadable regular expression.

/** Limits, exported so the CLI and the tests state the same numbers. */
export const LIMITS = {
  nameMaxLength: 63,
  /** HOST_NAME_MAX and the uts release field are 64 bytes plus NUL. */
  hostnameMaxLength: 64,
  kernelVersionMaxLength: 64,
  pathMaxLength: 4095,
  envMaxCount: 4096,
  /** MAX_ARG_STRLEN: one "KEY=VALUE" string handed to execve. */
  envMaxEntryBytes: 131072,
  /** Total of all "KEY=VALUE\0" strings; execve's limit is about 2 MiB for
   * argv + envp together, so leave half of it to argv. */
  envMaxTotalBytes: 1048576,
  bindsMax: 256,
  tmpfsMax: 64,
  commandMaxItems: 4096,
  extraRulesMax: 10000,
  /** A config file larger than this is refused before parsing. */
  configMaxBytes: 8 * 1048576,
} as const;

export const NAME_PATTERN = '^[a-z0-9][a-z0-9_.-]{0,62}$';
/** A volume's name, as Docker's local driver allows them (one path component, never "." or ".."). */
export const VOLUME_NAME_PATTERN = '^[a-zA-Z0-9][a-zA-Z0-9_.-]{1,254}$';
export const PROFILE_PATTERN = '^[a-z0-9][a-z0-9_-]{0,63}$';
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
export const HOSTNAME_PATTERN = `^${LABEL}(?:\\.${LABEL})*$`;
export const KERNEL_VERSION_PATTERN = '^[0-9]{1,5}\\.[0-9]{1,5}(?:\\.[0-9]{1,5})?(?:[-+.~_][A-Za-z0-9._+~-]*)?$';
/** 0..65535: the zone's ids are mapped onto a 65536-id range of the host. */
const ID = '(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4})';
const ACCOUNT = '[a-z_][a-z0-9_.-]{0,31}';
export const USER_PATTERN = `^(?:${ID}|${ACCOUNT})(?::(?:${ID}|${ACCOUNT}))?$`;
export const RESTART_PATTERN = '^(?:no|always|unless-stopped|on-failure(?::[1-9][0-9]{0,5})?)$';
const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])';
export const IPV4_CIDR_PATTERN = `^${OCTET}(?:\\.${OCTET}){3}(?:/(?:3[0-2]|[12]?[0-9]))?$`;

const noNul = { pattern: '^[^\\u0000]*$', 'x-rule': 'must not contain a NUL character' };
const noDotDot = { pattern: '^(?!(?:.*/)?\\.\\.(?:/|$))', 'x-rule': "must not contain a '..' component" };

/** An absolute path inside the zone: normalised by validate.ts after checking. */
const zonePath = {
  type: 'string',
  minLength: 1,
  maxLength: LIMITS.pathMaxLength,
  allOf: [{ pattern: '^/', 'x-rule': 'must be an absolute path' }, noNul, noDotDot],
};

/** An absolute path on the host; its existence and symlinks are checked in host-paths.ts. */
const hostPath = zonePath;

const rootfs = {
  type: 'object',
  required: ['type'],
  discriminator: { propertyName: 'type' },
  oneOf: [
    {
      properties: { type: { const: 'host' }, copyOnWrite: { type: 'boolean' } },
      additionalProperties: false,
    },
    {
      properties: { type: { const: 'dir' }, path: hostPath },
      required: ['path'],
      additionalProperties: false,
    },
    {
      properties: {
        type: { const: 'image' },
        path: hostPath,
        format: { enum: ['auto', 'rootfs', 'docker', 'oci'] },
        ref: { type: 'string', minLength: 1, maxLength: 512, ...noNul },
      },
      required: ['path'],
      additionalProperties: false,
    },
    {
      properties: {
        type: { const: 'store' },
        ref: { type: 'string', minLength: 1, maxLength: 512, ...noNul },
        digest: { type: 'string', pattern: '^sha256:[a-f0-9]{64}$' },
      },
      required: ['ref', 'digest'],
      additionalProperties: false,
    },
  ],
};

const envName = {
  type: 'string',
  minLength: 1,
  maxLength: 255,
  pattern: '^[^=\\u0000]+$',
  'x-rule': "must be a non-empty name without '=' or NUL, at most 255 characters",
};

export const zoneConfigSchema = {
  $id: 'https://lxzone.dev/schema/zone-config.json',
  type: 'object',
  required: ['name', 'rootfs'],
  additionalProperties: false,
  properties: {
    version: { const: 1 },
    name: {
      type: 'string',
      allOf: [
        { pattern: NAME_PATTERN },
        { pattern: '^(?!.*\\.\\.)', 'x-rule': "must not contain '..'" },
      ],
    },
    rootfs,
    hostname: {
      type: 'string',
      maxLength: LIMITS.hostnameMaxLength,
      pattern: HOSTNAME_PATTERN,
      'x-rule':
        "must be an RFC 1123 host name (letters, digits and '-' in dot-separated labels of 1 to 63 characters, not starting or ending with '-')",
    },
    kernelVersion: {
      type: 'string',
      maxLength: LIMITS.kernelVersionMaxLength,
      pattern: KERNEL_VERSION_PATTERN,
      'x-rule': 'must be a kernel release such as 5.15.0 or 6.1.0-13-amd64',
    },
    profile: {
      type: 'string',
      pattern: PROFILE_PATTERN,
      'x-rule': "must be a profile name (lowercase letters, digits, '_' and '-', at most 64)",
      default: 'default',
    },
    extraRules: {
      type: 'array',
      maxItems: LIMITS.extraRulesMax,
      items: { type: 'object' },
      default: [],
    },
    // Checked by the importer (lifecycle/plan.ts checkPolicy), not here: its language is Docker's.
    seccomp: { type: 'object' },
    command: {
      type: 'array',
      minItems: 1,
      maxItems: LIMITS.commandMaxItems,
      items: { type: 'string', maxLength: LIMITS.envMaxEntryBytes - 1, ...noNul },
    },
    env: {
      type: 'object',
      maxProperties: LIMITS.envMaxCount,
      propertyNames: envName,
      additionalProperties: {
        type: 'string',
        maxLength: LIMITS.envMaxEntryBytes - 2,
        ...noNul,
      },
      lxzEnvMaxBytes: LIMITS.envMaxTotalBytes,
      default: {},
    },
    envUnset: { type: 'array', maxItems: LIMITS.envMaxCount, uniqueItems: true, items: envName },
    cwd: zonePath,
    user: {
      type: 'string',
      pattern: USER_PATTERN,
      'x-rule': 'must be uid[:gid] (0 to 65535) or name[:group]',
    },
    binds: {
      type: 'array',
      maxItems: LIMITS.bindsMax,
      lxzUniqueBy: 'zone',
      items: {
        type: 'object',
        required: ['host', 'zone'],
        additionalProperties: false,
        properties: {
          host: hostPath,
          zone: zonePath,
          readOnly: { type: 'boolean', default: false },
        },
      },
      default: [],
    },
    volumes: {
      type: 'array',
      maxItems: LIMITS.bindsMax,
      lxzUniqueBy: 'zone',
      items: {
        type: 'object',
        required: ['name', 'zone'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', pattern: VOLUME_NAME_PATTERN, 'x-rule': 'must be a volume name: [a-zA-Z0-9][a-zA-Z0-9_.-]+, at most 255 characters' },
          zone: zonePath,
          readOnly: { type: 'boolean', default: false },
          anonymous: { type: 'boolean' },
        },
      },
    },
    tmpfs: {
      type: 'array',
      maxItems: LIMITS.tmpfsMax,
      lxzUniqueBy: 'path',
      items: {
        type: 'object',
        required: ['path', 'sizeBytes'],
        additionalProperties: false,
        properties: {
          path: zonePath,
          sizeBytes: { type: 'integer', minimum: 4096, maximum: Number.MAX_SAFE_INTEGER },
          mode: { type: 'integer', minimum: 0, maximum: 0o7777 },
          noexec: { type: 'boolean' },
        },
      },
      default: [],
    },
    init: { type: 'boolean', default: true },
    system: { type: 'boolean' },
    resources: {
      type: 'object',
      additionalProperties: false,
      properties: {
        memoryBytes: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
        swapBytes: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
        cpus: { type: 'number', exclusiveMinimum: 0, maximum: 1024 },
        cpuShares: { type: 'integer', minimum: 2, maximum: 262144 },
        pidsMax: { type: 'integer', minimum: 1, maximum: 4194304 },
        diskBytes: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
      },
    },
    network: {
      type: 'object',
      required: ['mode'],
      additionalProperties: false,
      properties: {
        mode: { enum: ['none', 'loopback', 'zone'] },
        address: {
          type: 'string',
          pattern: IPV4_CIDR_PATTERN,
          'x-rule': 'must be an IPv4 address with an optional /prefix, e.g. 10.88.0.2/24',
        },
        nat: { type: 'boolean' },
        resolvConf: { enum: ['host'] },
        ports: {
          type: 'array',
          maxItems: 256,
          items: {
            type: 'string',
            pattern: '^([0-9]{1,3}(\\.[0-9]{1,3}){3}:)?[0-9]{1,5}:[0-9]{1,5}(/(tcp|udp))?$',
            'x-rule': 'must be [HOSTIP:]HOSTPORT:ZONEPORT[/tcp|udp], e.g. 8080:80',
          },
        },
        userNetwork: {
          type: 'string',
          pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$',
          'x-rule': 'must be a network name: 1-63 of A-Z a-z 0-9 _ . -',
        },
        aliases: {
          type: 'array',
          maxItems: 32,
          items: {
            type: 'string',
            pattern: '^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$',
            'x-rule': 'must be a DNS name: 1-63 of A-Z a-z 0-9 _ . -',
          },
        },
        extraNetworks: {
          type: 'array',
          maxItems: 15,
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['name'],
            properties: {
              name: {
                type: 'string',
                pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$',
                'x-rule': 'must be a network name: 1-63 of A-Z a-z 0-9 _ . -',
              },
              aliases: {
                type: 'array',
                maxItems: 32,
                items: {
                  type: 'string',
                  pattern: '^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$',
                  'x-rule': 'must be a DNS name: 1-63 of A-Z a-z 0-9 _ . -',
                },
              },
              address: {
                type: 'string',
                pattern: IPV4_CIDR_PATTERN,
                'x-rule': 'must be an IPv4 address with an optional /prefix, e.g. 10.224.0.5',
              },
            },
          },
        },
      },
      if: { required: ['address'] },
      then: {
        properties: { mode: { const: 'zone', 'x-rule': 'must be "zone" when an address is given' } },
      },
    },
    stdin: { type: 'boolean' },
    tty: { type: 'boolean' },
    restartPolicy: {
      type: 'string',
      pattern: RESTART_PATTERN,
      'x-rule': 'must be one of no, on-failure, on-failure:N (N from 1), always, unless-stopped',
      default: 'no',
    },
  },
} as const;
