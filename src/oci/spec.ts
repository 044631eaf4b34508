// The bundle's config.json (OCI runtime-spec 1.x, Linux): typed, parsed once
// and checked against a JSON Schema written from the spec (config.md,
// config-linux.md). Only the shape is checked here; what lxzone can honour is
// decided, field by field, in translate.ts.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LxzoneError } from '../errors.js';
import { builtValidator } from './validators.js';

export interface OciUser { uid: number; gid: number; umask?: number; additionalGids?: number[]; username?: string }
export interface OciRlimit { type: string; soft: number; hard: number }
export interface OciCapabilities { bounding?: string[]; effective?: string[]; inheritable?: string[]; permitted?: string[]; ambient?: string[] }
export interface OciProcess {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  user: OciUser;
  args?: string[];
  commandLine?: string;
  env?: string[];
  cwd: string;
  capabilities?: OciCapabilities;
  rlimits?: OciRlimit[];
  noNewPrivileges?: boolean;
  apparmorProfile?: string;
  oomScoreAdj?: number;
  selinuxLabel?: string;
}
export interface OciMount { destination: string; source?: string; type?: string; options?: string[]; uidMappings?: OciIdMapping[]; gidMappings?: OciIdMapping[] }
export interface OciHook { path: string; args?: string[]; env?: string[]; timeout?: number }
export interface OciHooks { prestart?: OciHook[]; createRuntime?: OciHook[]; createContainer?: OciHook[]; startContainer?: OciHook[]; poststart?: OciHook[]; poststop?: OciHook[] }
export interface OciNamespace { type: string; path?: string }
export interface OciIdMapping { containerID: number; hostID: number; size: number }
export interface OciSeccomp { defaultAction: string; defaultErrnoRet?: number; architectures?: string[]; flags?: string[]; listenerPath?: string; listenerMetadata?: string; syscalls?: unknown[] }
export interface OciResources {
  devices?: { allow: boolean; type?: string; major?: number; minor?: number; access?: string }[];
  memory?: { limit?: number; reservation?: number; swap?: number; kernel?: number; kernelTCP?: number; swappiness?: number; disableOOMKiller?: boolean; useHierarchy?: boolean };
  cpu?: { shares?: number; quota?: number; period?: number; realtimeRuntime?: number; realtimePeriod?: number; cpus?: string; mems?: string; idle?: number; burst?: number };
  pids?: { limit: number };
  blockIO?: Record<string, unknown>;
  hugepageLimits?: { pageSize: string; limit: number }[];
  network?: Record<string, unknown>;
  rdma?: Record<string, unknown>;
  unified?: Record<string, string>;
}
export interface OciLinux {
  namespaces?: OciNamespace[];
  uidMappings?: OciIdMapping[];
  gidMappings?: OciIdMapping[];
  devices?: { path: string; type: string; major?: number; minor?: number; fileMode?: number; uid?: number; gid?: number }[];
  cgroupsPath?: string;
  resources?: OciResources;
  rootfsPropagation?: string;
  seccomp?: OciSeccomp;
  sysctl?: Record<string, string>;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  mountLabel?: string;
  personality?: { domain: string; flags?: string[] };
  intelRdt?: unknown;
  timeOffsets?: unknown;
}
export interface OciSpec {
  ociVersion: string;
  process?: OciProcess;
  root?: { path: string; readonly?: boolean };
  hostname?: string;
  domainname?: string;
  mounts?: OciMount[];
  hooks?: OciHooks;
  annotations?: Record<string, string>;
  linux?: OciLinux;
}

const str = { type: 'string' };
const strs = { type: 'array', items: str };
const u32 = { type: 'integer', minimum: 0, maximum: 4294967295 };
const i64 = { type: 'integer' };
const absPath = { type: 'string', pattern: '^/' };
const idMapping = {
  type: 'object',
  required: ['containerID', 'hostID', 'size'],
  properties: { containerID: u32, hostID: u32, size: u32 },
};
const hook = {
  type: 'object',
  required: ['path'],
  properties: { path: absPath, args: strs, env: strs, timeout: { type: 'integer', minimum: 1 } },
};
const hookList = { type: 'array', items: hook };

/** runtime-spec's config schema, for the fields a Linux runtime reads (unknown fields are allowed, as the spec says). */
export const OCI_CONFIG_SCHEMA = {
  type: 'object',
  required: ['ociVersion'],
  properties: {
    ociVersion: { type: 'string', pattern: '^1\\.[0-9]+\\.[0-9]+(?:-[A-Za-z0-9.+-]+)?(?:\\+[A-Za-z0-9.-]+)?$' },
    hostname: str,
    domainname: str,
    annotations: { type: 'object', additionalProperties: str },
    root: { type: 'object', required: ['path'], properties: { path: { type: 'string', minLength: 1 }, readonly: { type: 'boolean' } } },
    process: {
      type: 'object',
      required: ['cwd', 'user'],
      properties: {
        terminal: { type: 'boolean' },
        consoleSize: { type: 'object', required: ['height', 'width'], properties: { height: u32, width: u32 } },
        cwd: absPath,
        env: { type: 'array', items: { type: 'string', pattern: '^[^=]+=' } },
        args: { type: 'array', items: str, minItems: 1 },
        commandLine: str,
        user: {
          type: 'object',
          required: ['uid', 'gid'],
          properties: { uid: u32, gid: u32, umask: u32, additionalGids: { type: 'array', items: u32 }, username: str },
        },
        capabilities: {
          type: 'object',
          properties: Object.fromEntries(['bounding', 'effective', 'inheritable', 'permitted', 'ambient'].map((k) => [k, { type: 'array', items: { type: 'string', pattern: '^CAP_[A-Z_]+$' } }])),
        },
        rlimits: {
          type: 'array',
          items: { type: 'object', required: ['type', 'soft', 'hard'], properties: { type: { type: 'string', pattern: '^RLIMIT_[A-Z]+$' }, soft: { type: 'integer', minimum: 0 }, hard: { type: 'integer', minimum: 0 } } },
        },
        noNewPrivileges: { type: 'boolean' },
        apparmorProfile: str,
        oomScoreAdj: { type: 'integer', minimum: -1000, maximum: 1000 },
        selinuxLabel: str,
      },
    },
    mounts: {
      type: 'array',
      items: {
        type: 'object',
        required: ['destination'],
        properties: { destination: { type: 'string', minLength: 1 }, source: str, type: str, options: strs, uidMappings: { type: 'array', items: idMapping }, gidMappings: { type: 'array', items: idMapping } },
      },
    },
    hooks: {
      type: 'object',
      properties: Object.fromEntries(['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'].map((k) => [k, hookList])),
    },
    linux: {
      type: 'object',
      properties: {
        namespaces: {
          type: 'array',
          items: { type: 'object', required: ['type'], properties: { type: { enum: ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time'] }, path: absPath } },
        },
        uidMappings: { type: 'array', items: idMapping },
        gidMappings: { type: 'array', items: idMapping },
        devices: { type: 'array', items: { type: 'object', required: ['path', 'type'], properties: { path: absPath, type: { enum: ['c', 'b', 'u', 'p'] } } } },
        cgroupsPath: str,
        resources: {
          type: 'object',
          properties: {
            memory: { type: 'object', properties: { limit: i64, reservation: i64, swap: i64, kernel: i64, kernelTCP: i64, swappiness: { type: 'integer', minimum: 0 }, disableOOMKiller: { type: 'boolean' } } },
            cpu: { type: 'object', properties: { shares: { type: 'integer', minimum: 0 }, quota: i64, period: { type: 'integer', minimum: 0 }, cpus: str, mems: str } },
            pids: { type: 'object', required: ['limit'], properties: { limit: i64 } },
            devices: { type: 'array', items: { type: 'object', required: ['allow'], properties: { allow: { type: 'boolean' }, type: str, access: str } } },
            unified: { type: 'object', additionalProperties: str },
          },
        },
        rootfsPropagation: { enum: ['private', 'shared', 'slave', 'unbindable', 'rprivate', 'rshared', 'rslave', 'runbindable'] },
        seccomp: {
          type: 'object',
          required: ['defaultAction'],
          properties: { defaultAction: { type: 'string', pattern: '^SCMP_ACT_' }, defaultErrnoRet: u32, architectures: strs, flags: strs, listenerPath: str, listenerMetadata: str, syscalls: { type: 'array' } },
        },
        sysctl: { type: 'object', additionalProperties: str },
        maskedPaths: { type: 'array', items: absPath },
        readonlyPaths: { type: 'array', items: absPath },
        mountLabel: str,
      },
    },
  },
};

const CONFIG_MAX_BYTES = 8 * 1048576;

/** Checks a parsed config.json; the error names the field (JSON pointer) and what was wrong. */
export function checkOciSpec(doc: unknown, file = 'config.json'): OciSpec {
  if (!validateConfig(doc)) {
    const e = validateConfig.errors?.[0];
    const where = `${file}${e?.instancePath ? ` ${e.instancePath}` : ''}`;
    throw new LxzoneError(`${where}: ${e?.message ?? 'invalid'}`, { where, code: 'EINVAL' });
  }
  return doc as OciSpec;
}

/** Reads and checks BUNDLE/config.json. */
export function readBundleConfig(bundle: string): OciSpec {
  const file = join(bundle, 'config.json');
  let text: string;
  try {
    if (statSync(file).size > CONFIG_MAX_BYTES) throw new LxzoneError(`${file}: larger than ${CONFIG_MAX_BYTES} bytes`, { code: 'E2BIG' });
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof LxzoneError) throw err;
    throw new LxzoneError(`bundle ${bundle}: cannot read config.json: ${(err as Error).message}`, { cause: err, code: (err as NodeJS.ErrnoException).code });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new LxzoneError(`${file}: not JSON: ${(err as Error).message}`, { code: 'EINVAL' });
  }
  return checkOciSpec(doc, file);
}

/** The schema of one part of config.json (process for exec --process, linux.resources for update). */
type Props = { properties: Record<string, { properties?: Record<string, object> } & object> };
const CONFIG_PROPS = (OCI_CONFIG_SCHEMA as unknown as Props).properties;

/**
 * Every schema lxzone-runc checks a document against, by name:
 * scripts/build-oci-validators.mjs compiles them into dist/oci/validators.cjs
 * when the package is built (src/oci/validators.ts says why).
 */
export const OCI_SCHEMAS = {
  config: OCI_CONFIG_SCHEMA,
  process: { ...CONFIG_PROPS.process, required: ['cwd', 'user', 'args'] },
  resources: CONFIG_PROPS.linux!.properties!.resources!,
};
const validateConfig = builtValidator('config', OCI_SCHEMAS.config);
const validateProcess = builtValidator('process', OCI_SCHEMAS.process);
const validateResources = builtValidator('resources', OCI_SCHEMAS.resources);

function checkWith(v: ReturnType<typeof builtValidator>, doc: unknown, what: string): void {
  if (!v(doc)) {
    const e = v.errors?.[0];
    const where = `${what}${e?.instancePath ? ` ${e.instancePath}` : ''}`;
    throw new LxzoneError(`${where}: ${e?.message ?? 'invalid'}`, { where, code: 'EINVAL' });
  }
}

/** exec --process FILE: a runtime-spec process object, args required. */
export function checkOciProcess(doc: unknown, file: string): OciProcess {
  checkWith(validateProcess, doc, file);
  return doc as OciProcess;
}

/** update --resources: a linux.resources object. */
export function checkOciResources(doc: unknown, what = 'resources'): OciResources {
  checkWith(validateResources, doc, what);
  return doc as OciResources;
}
