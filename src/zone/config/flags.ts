// Docker-like command-line flags turned into config fields: -e/--env K=V,
// -v/--volume host:zone[:ro|rw], -u/--user, --tmpfs path[:size=..,mode=..],
// --restart. These only parse; the resulting config is validated by
// parseZoneConfig like any other, and host paths by checkHostPaths.
// Errors are usage errors (exit code 2) that quote the flag.
import { isAbsolute } from 'node:path';
import { LxzoneError } from '../../errors.js';
import { LIMITS, RESTART_PATTERN, USER_PATTERN, VOLUME_NAME_PATTERN } from './schema.js';
import type { BindMount, TmpfsMount, VolumeMount, ZoneConfig } from './types.js';
import { normalizeZonePath } from './validate.js';

function usage(flag: string, value: string, detail: string): LxzoneError {
  return new LxzoneError(`option ${flag} ${JSON.stringify(value)}: ${detail}`, { code: 'EINVAL', exitCode: 2 });
}

/**
 * `-e KEY=VALUE`, or `-e KEY` to pass the caller's own value (docker's
 * meaning; a KEY the caller does not have is left out: returns undefined).
 */
export function parseEnvFlag(
  spec: string,
  callerEnv: NodeJS.ProcessEnv = process.env,
): [string, string] | undefined {
  const eq = spec.indexOf('=');
  const key = eq < 0 ? spec : spec.slice(0, eq);
  if (key === '') throw usage('-e', spec, 'the variable name is empty');
  if (key.includes('\0') || spec.includes('\0')) throw usage('-e', spec, 'must not contain a NUL character');
  if (eq >= 0) return [key, spec.slice(eq + 1)];
  const v = callerEnv[key];
  return v === undefined ? undefined : [key, v];
}

/** Several -e flags in order (a later one wins), on top of `base`. */
export function parseEnvFlags(
  specs: readonly string[],
  base: Record<string, string> = {},
  callerEnv: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env = { ...base };
  for (const s of specs) {
    const kv = parseEnvFlag(s, callerEnv);
    if (kv) env[kv[0]] = kv[1];
  }
  return env;
}

/**
 * `-v HOST:ZONE[:ro|rw]`. Both paths absolute; the host path may not contain
 * ':' (no way to tell it from the separator, as with docker).
 */
export function parseVolumeFlag(spec: string): BindMount {
  const parts = spec.split(':');
  let readOnly = false;
  if (parts.length === 3) {
    const opt = parts.pop() as string;
    if (opt === 'ro') readOnly = true;
    else if (opt !== 'rw') throw usage('-v', spec, `unknown mode "${opt}" (use ro or rw)`);
  }
  if (parts.length !== 2) throw usage('-v', spec, 'must be HOST:ZONE[:ro] (paths cannot contain ":")');
  const [host, zone] = parts as [string, string];
  if (!isAbsolute(host)) throw usage('-v', spec, `host path "${host}" must be absolute`);
  if (!zone.startsWith('/')) throw usage('-v', spec, `zone path "${zone}" must be absolute`);
  if (host.includes('\0') || zone.includes('\0')) throw usage('-v', spec, 'must not contain a NUL character');
  if (zone.split('/').includes('..')) throw usage('-v', spec, `zone path "${zone}" must not contain '..'`);
  if (host.split('/').includes('..')) throw usage('-v', spec, `host path "${host}" must not contain '..'`);
  return { host: normalizeZonePath(host), zone: normalizeZonePath(zone), readOnly };
}

/** `-v NAME:ZONE[:ro|rw]` names a volume (src/zone/volumes/) where HOST:ZONE names a host path. */
export function isVolumeFlag(spec: string): boolean {
  const first = spec.split(':')[0] ?? '';
  return !first.startsWith('/') && new RegExp(VOLUME_NAME_PATTERN).test(first);
}

/** `-v NAME:ZONE[:ro|rw]`: a volume of the volume store, made at boot if it does not exist. */
export function parseVolumeMountFlag(spec: string): VolumeMount {
  const [name, ...rest] = spec.split(':');
  // The path rules are a bind's: parse it as one with a stand-in host path.
  const b = parseVolumeFlag(['/', ...rest].join(':'));
  return { name: name as string, zone: b.zone, readOnly: b.readOnly };
}

/** `-u uid[:gid]` or `-u name[:group]`. */
export function parseUserFlag(spec: string): string {
  if (!new RegExp(USER_PATTERN).test(spec)) {
    throw usage('--user', spec, 'must be uid[:gid] (0 to 65535) or name[:group]');
  }
  return spec;
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** "64m", "1.5g", "4096", "512k" (powers of 1024, docker's meaning) -> bytes. */
export function parseSize(s: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*([bkmgt]?)(?:i?b)?$/i.exec(s.trim());
  if (!m) {
    throw new LxzoneError(`size "${s}": must be a number with an optional unit k, m, g or t`, {
      code: 'EINVAL',
      exitCode: 2,
    });
  }
  const bytes = Math.round(Number(m[1]) * (SIZE_UNITS[(m[2] ?? '').toLowerCase()] as number));
  if (!Number.isSafeInteger(bytes)) {
    throw new LxzoneError(`size "${s}": too large`, { code: 'EINVAL', exitCode: 2 });
  }
  return bytes;
}

/** Default size of a --tmpfs without size=. */
export const DEFAULT_TMPFS_BYTES = 64 * 1024 * 1024;

/** `--tmpfs /run[:size=64m[,mode=1777][,noexec]]` */
export function parseTmpfsFlag(spec: string): TmpfsMount {
  const colon = spec.indexOf(':');
  const path = colon < 0 ? spec : spec.slice(0, colon);
  if (!path.startsWith('/')) throw usage('--tmpfs', spec, `path "${path}" must be absolute`);
  if (path.split('/').includes('..')) throw usage('--tmpfs', spec, `path "${path}" must not contain '..'`);
  const out: TmpfsMount = { path: normalizeZonePath(path), sizeBytes: DEFAULT_TMPFS_BYTES };
  if (colon >= 0) {
    for (const opt of spec.slice(colon + 1).split(',')) {
      const [k, v] = opt.split('=');
      if (k === 'size' && v !== undefined) out.sizeBytes = parseSize(v);
      else if (k === 'mode' && v !== undefined && /^[0-7]{1,4}$/.test(v)) out.mode = parseInt(v, 8);
      else if (k === 'noexec' && v === undefined) out.noexec = true;
      else throw usage('--tmpfs', spec, `unknown option "${opt}" (size=SIZE, mode=OCTAL, noexec)`);
    }
  }
  return out;
}

/** `--restart no|on-failure[:N]|always|unless-stopped` */
export function parseRestartFlag(spec: string): string {
  if (!new RegExp(RESTART_PATTERN).test(spec)) {
    throw usage('--restart', spec, 'must be no, on-failure[:N], always or unless-stopped');
  }
  return spec;
}

/** The docker-like options `lxzone run` and `lxzone create` share, as commander gives them. */
export interface ZoneFlags {
  env?: string[];
  volume?: string[];
  user?: string;
  workdir?: string;
  hostname?: string;
  tmpfs?: string[];
  restart?: string;
}

/**
 * Overlay parsed flags on a partial config. Validate the result with
 * parseZoneConfig (and checkHostPaths) before use.
 */
export function applyZoneFlags(
  base: Partial<ZoneConfig>,
  flags: ZoneFlags,
  callerEnv: NodeJS.ProcessEnv = process.env,
): Partial<ZoneConfig> {
  const out: Partial<ZoneConfig> = { ...base };
  if (flags.env?.length) {
    const env = parseEnvFlags(flags.env, base.env ?? {}, callerEnv);
    if (Object.keys(env).length > LIMITS.envMaxCount) {
      throw new LxzoneError(`option -e: more than ${LIMITS.envMaxCount} variables`, { code: 'E2BIG', exitCode: 2 });
    }
    out.env = env;
  }
  const binds = (flags.volume ?? []).filter((v) => !isVolumeFlag(v));
  const volumes = (flags.volume ?? []).filter(isVolumeFlag);
  if (binds.length) out.binds = [...(base.binds ?? []), ...binds.map(parseVolumeFlag)];
  if (volumes.length) out.volumes = [...(base.volumes ?? []), ...volumes.map(parseVolumeMountFlag)];
  if (flags.tmpfs?.length) out.tmpfs = [...(base.tmpfs ?? []), ...flags.tmpfs.map(parseTmpfsFlag)];
  if (flags.user !== undefined) out.user = parseUserFlag(flags.user);
  if (flags.workdir !== undefined) out.cwd = flags.workdir;
  if (flags.hostname !== undefined) out.hostname = flags.hostname;
  if (flags.restart !== undefined) out.restartPolicy = parseRestartFlag(flags.restart);
  return out;
}
