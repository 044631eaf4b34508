// Validation of zone configurations with ajv against schema.ts, and the
// translation of ajv's errors into messages that name the field:
//   zone config "web": field "binds[0].zone": must be an absolute path
import { parsePublish } from '../network/publish.js';
import { posix } from 'node:path';
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';
import { newAjv } from '../../lazy-schema.js';
import { LxzoneError } from '../../errors.js';
import { LIMITS, zoneConfigSchema, HOSTNAME_PATTERN } from './schema.js';
import type { RestartPolicy, ZoneConfig } from './types.js';

function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

function makeAjv(): Ajv {
  const ajv = newAjv({
    allErrors: true,
    useDefaults: true,
    discriminator: true,
    verbose: true, // errors carry parentSchema, where our x-rule sentences live
    strict: true,
    strictTypes: false, // `if`/`then` and allOf branches without their own `type`
    strictRequired: false, // rootfs.type is declared in each discriminator branch
  });
  ajv.addVocabulary(['x-rule']);
  // Sum of the "KEY=VALUE\0" strings the environment becomes at execve.
  ajv.addKeyword({
    keyword: 'lxzEnvMaxBytes',
    type: 'object',
    schemaType: 'number',
    errors: true,
    validate: function envBytes(max: number, data: Record<string, unknown>): boolean {
      let total = 0;
      for (const [k, v] of Object.entries(data)) {
        total += utf8Bytes(k) + 1 + (typeof v === 'string' ? utf8Bytes(v) : 0) + 1;
      }
      if (total <= max) return true;
      (envBytes as unknown as { errors: Partial<ErrorObject>[] }).errors = [
        {
          keyword: 'lxzEnvMaxBytes',
          message: `must total at most ${max} bytes as KEY=VALUE strings (has ${total})`,
          params: { limit: max, total },
        },
      ];
      return false;
    },
  });
  // Two binds (or tmpfs mounts) on the same zone path would shadow each other.
  ajv.addKeyword({
    keyword: 'lxzUniqueBy',
    type: 'array',
    schemaType: 'string',
    errors: true,
    validate: function uniqueBy(
      key: string,
      data: unknown[],
      _parent: unknown,
      cxt?: { instancePath: string },
    ): boolean {
      const seen = new Map<string, number>();
      for (let i = 0; i < data.length; i++) {
        const item = data[i] as Record<string, unknown> | null;
        const raw = item && typeof item === 'object' ? item[key] : undefined;
        if (typeof raw !== 'string') continue;
        const v = posix.normalize(raw).replace(/(.)\/+$/, '$1');
        const first = seen.get(v);
        if (first !== undefined) {
          (uniqueBy as unknown as { errors: Partial<ErrorObject>[] }).errors = [
            {
              keyword: 'lxzUniqueBy',
              instancePath: `${cxt?.instancePath ?? ''}/${i}/${key}`,
              message: `duplicates entry ${first} (${v})`,
              params: { key },
            },
          ];
          return false;
        }
        seen.set(v, i);
      }
      return true;
    },
  });
  return ajv;
}

let compiled: ValidateFunction | undefined;
function validator(): ValidateFunction {
  compiled ??= makeAjv().compile(zoneConfigSchema);
  return compiled;
}

/** "/binds/0/host" -> "binds[0].host" */
export function fieldName(instancePath: string, extra?: string): string {
  const parts = instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra !== undefined) parts.push(extra);
  let out = '';
  for (const p of parts) {
    if (/^[0-9]+$/.test(p)) out += `[${p}]`;
    else out += out === '' ? p : `.${p}`;
  }
  return out === '' ? '(top level)' : out;
}

function describe(err: ErrorObject): { field: string; message: string } {
  const parent = err.parentSchema as Record<string, unknown> | undefined;
  const rule = parent && typeof parent['x-rule'] === 'string' ? (parent['x-rule'] as string) : undefined;
  const p = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'required':
      return { field: fieldName(err.instancePath, String(p.missingProperty)), message: 'is required' };
    case 'additionalProperties':
      if (err.instancePath.startsWith('/env/') || err.instancePath === '/env') break;
      return { field: fieldName(err.instancePath, String(p.additionalProperty)), message: 'is not a known field' };
    case 'propertyNames':
      return { field: fieldName(err.instancePath, String(p.propertyName)), message: 'is not a valid name' };
    case 'discriminator':
      if (p.error === 'mapping') {
        return { field: fieldName(err.instancePath, String(p.tag)), message: 'must be one of: host, dir, image' };
      }
      return { field: fieldName(err.instancePath, String(p.tag)), message: 'must be a string: host, dir or image' };
    case 'enum':
      return {
        field: fieldName(err.instancePath),
        message: `must be one of: ${(p.allowedValues as unknown[]).map((v) => String(v)).join(', ')}`,
      };
    case 'const':
      return { field: fieldName(err.instancePath), message: rule ?? `must be ${JSON.stringify(p.allowedValue)}` };
    case 'pattern':
      return { field: fieldName(err.instancePath), message: rule ?? `must match ${String(p.pattern)}` };
    case 'maxProperties':
      return { field: fieldName(err.instancePath), message: `must have at most ${String(p.limit)} entries` };
    case 'maxItems':
      return { field: fieldName(err.instancePath), message: `must have at most ${String(p.limit)} items` };
    case 'minItems':
      return { field: fieldName(err.instancePath), message: `must have at least ${String(p.limit)} item(s)` };
    case 'maxLength':
      return { field: fieldName(err.instancePath), message: `must be at most ${String(p.limit)} characters` };
    case 'minLength':
      return { field: fieldName(err.instancePath), message: 'must not be empty' };
    case 'if':
      return { field: '', message: '' }; // the failing `then` branch reports itself
    default:
      break;
  }
  // Type and range errors: ajv's own words ("must be string", "must be >= 4096").
  return { field: fieldName(err.instancePath), message: err.message ?? err.keyword };
}

/** All schema errors of one config, each naming its field, without duplicates. */
export function formatSchemaErrors(errors: readonly ErrorObject[]): string[] {
  const out: string[] = [];
  for (const e of errors) {
    // propertyNames reports a nested error for the name and then its own; keep one.
    if (e.propertyName !== undefined && e.keyword !== 'propertyNames') continue;
    const { field, message } = describe(e);
    if (field === '' && message === '') continue;
    const line = `field "${field}": ${message}`;
    if (!out.includes(line)) out.push(line);
  }
  return out;
}

function configError(source: string, detail: string, cause?: unknown): LxzoneError {
  return new LxzoneError(`zone config "${source}": ${detail}`, {
    code: 'EINVAL',
    where: source,
    exitCode: 1,
    cause,
  });
}

/** Turn an absolute zone path into its canonical form ("//a/./b/" -> "/a/b"). */
export function normalizeZonePath(p: string): string {
  const n = posix.normalize(p);
  return n.length > 1 ? n.replace(/\/+$/, '') : n;
}

/** The default hostname for a zone name: the name itself when it is a valid
 * host name, else the name with '_' turned into '-' and stray dots removed. */
export function hostnameForName(name: string): string {
  const re = new RegExp(HOSTNAME_PATTERN);
  if (re.test(name)) return name;
  const fixed = name.replace(/_/g, '-').replace(/\.+/g, '.').replace(/^[.-]+|[.-]+$/g, '').replace(/-\./g, '.').replace(/\.-/g, '.');
  return re.test(fixed) && fixed.length <= LIMITS.hostnameMaxLength ? fixed : 'zone';
}

/**
 * Validate a zone configuration (JSON text or an already parsed value) against
 * the schema, fill in defaults and normalise paths. Shape only: the host paths
 * of binds and rootfs are checked by checkHostPaths() (host-paths.ts), which
 * the lifecycle runs at create and again at boot.
 *
 * @param source what to name in errors: a file path, a zone name, "command line"…
 */
export function parseZoneConfig(json: string | unknown, source: string): ZoneConfig {
  let value: unknown = json;
  if (typeof json === 'string') {
    if (Buffer.byteLength(json, 'utf8') > LIMITS.configMaxBytes) {
      throw configError(source, `larger than ${LIMITS.configMaxBytes} bytes`);
    }
    try {
      value = JSON.parse(json);
    } catch (e) {
      throw configError(source, `not valid JSON: ${(e as Error).message}`, e);
    }
  } else {
    // Never let ajv's defaults mutate the caller's object.
    value = structuredClone(json);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw configError(source, 'must be a JSON object');
  }
  const validate = validator();
  if (!validate(value)) {
    const lines = formatSchemaErrors(validate.errors ?? []);
    throw configError(source, lines.join('; '));
  }
  const cfg = value as ZoneConfig;
  cfg.hostname ??= hostnameForName(cfg.name);
  if (cfg.cwd !== undefined) cfg.cwd = normalizeZonePath(cfg.cwd);
  for (const b of cfg.binds) {
    b.host = normalizeZonePath(b.host);
    b.zone = normalizeZonePath(b.zone);
  }
  for (const t of cfg.tmpfs) t.path = normalizeZonePath(t.path);
  for (const v of cfg.volumes ?? []) {
    v.zone = normalizeZonePath(v.zone);
    // A volume and a bind at one path would shadow each other (the schema checks each list alone).
    if (cfg.binds.some((b) => b.zone === v.zone)) throw configError(source, `field "volumes": ${v.zone} is also a bind's zone path`);
  }
  if (cfg.rootfs.type === 'dir' || cfg.rootfs.type === 'image') cfg.rootfs.path = normalizeZonePath(cfg.rootfs.path);
  if (cfg.network && cfg.network.mode !== 'zone' && (cfg.network.nat || cfg.network.ports?.length || cfg.network.userNetwork || cfg.network.aliases?.length)) {
    throw configError(source, `field "network": nat, ports, userNetwork and aliases need mode "zone" (it is "${cfg.network.mode}")`);
  }
  const extra = cfg.network?.extraNetworks ?? [];
  if (extra.length && cfg.network?.mode !== 'zone') throw configError(source, 'field "network.extraNetworks": further networks need mode "zone"');
  const seen = new Set(cfg.network?.userNetwork !== undefined ? [cfg.network.userNetwork] : []);
  for (const [i, x] of extra.entries()) {
    if (seen.has(x.name)) throw configError(source, `field "network.extraNetworks[${i}]": the zone is on network ${x.name} already`);
    seen.add(x.name);
  }
  if (cfg.network?.aliases?.length && !cfg.network.userNetwork) {
    throw configError(source, 'field "network.aliases": names on a network need a user-defined network (network.userNetwork)');
  }
  try {
    for (const p of cfg.network?.ports ?? []) parsePublish(p); // port ranges and addresses the pattern cannot check
  } catch (e) {
    throw configError(source, `field "network.ports": ${(e as Error).message}`, e);
  }
  return cfg;
}

/**
 * A complete configuration with every default filled in: rootfs defaults to
 * the host's root (read-only), hostname to the name. `overrides` is validated
 * like a config file, so a bad override fails with a field name too.
 */
export function defaultZoneConfig(name: string, overrides: Partial<ZoneConfig> = {}): ZoneConfig {
  return parseZoneConfig({ rootfs: { type: 'host' }, ...overrides, name }, name);
}

/** Parse a validated `restartPolicy` string. */
export function parseRestartPolicy(s: string): RestartPolicy {
  if (s === 'no' || s === 'always' || s === 'unless-stopped') return { kind: s };
  const m = /^on-failure(?::([0-9]+))?$/.exec(s);
  if (m) return m[1] === undefined ? { kind: 'on-failure' } : { kind: 'on-failure', maxRetries: Number(m[1]) };
  throw new LxzoneError(`restart policy "${s}": must be one of no, on-failure[:N], always, unless-stopped`, {
    code: 'EINVAL',
  });
}

/** Check a zone name on its own (before it is used to build a path). */
/**
 * The schema's own patterns for a zone name, as ajv compiles them. A valid
 * name (every zone path of every verb checks one) is accepted with them alone:
 * compiling the whole config schema for it cost `lxzone exec` ~100 ms of ajv.
 */
let namePatterns: RegExp[] | null | undefined;
function nameMatchesSchema(name: string): boolean {
  if (namePatterns === undefined) {
    // Only while the name's schema is a string and patterns: any other rule added there is ajv's to check.
    const schema = zoneConfigSchema.properties.name as Record<string, unknown>;
    const rules = schema.allOf as ReadonlyArray<Record<string, unknown>>;
    const plain = Object.keys(schema).every((k) => k === 'type' || k === 'allOf') && schema.type === 'string' &&
      rules.every((r) => Object.keys(r).every((k) => k === 'pattern' || k === 'x-rule'));
    namePatterns = plain ? rules.map((r) => new RegExp(String(r.pattern), 'u')) : null;
  }
  return namePatterns !== null && namePatterns.every((re) => re.test(name));
}

export function assertZoneName(name: unknown): asserts name is string {
  if (typeof name !== 'string') throw configError(String(name), 'field "name": must be a string');
  if (nameMatchesSchema(name)) return;
  // Refused: the full schema says why, in the words a config error uses.
  const validate = validator();
  // Validate a minimal config so the name rule and its message stay in one place.
  if (!validate({ name, rootfs: { type: 'host' } })) {
    throw new LxzoneError(
      `zone name ${JSON.stringify(name)}: ${formatSchemaErrors(validate.errors ?? [])
        .map((l) => l.replace(/^field "name": /, ''))
        .join('; ')}`,
      { code: 'EINVAL', where: 'name' },
    );
  }
}
