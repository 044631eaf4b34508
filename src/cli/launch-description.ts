// A plain `lxzone run`'s launch description (docs/parts/fast-run.md): the
// zone's plan with argv, TERM, the terminal and the one-shot id range left as
// slots, written for the native front end (native/front/) so that the next
// run with the same flags starts without Node. Written only when that front
// end asks (LXZONE_LAUNCH_FLAGS, set when it found no usable description) and
// our own parse of the command line is the plain form it asked for.
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { policyInputFiles } from '../policy/cache.js';
import { LAUNCH_DESCRIPTION_VERSION, type LaunchDescriptionKey } from '../seam.generated.js';
import { shimPath } from '../native.js';
import { RESTART_BURST, RESTART_SERIES_RESET_MS, restartDelayMs, restartLimitReason } from '../zone/lifecycle/restart.js';
import { planLaunchTemplate } from '../zone/shim-plan.js';
import type { RunOptions } from '../zone/spec.js';
import { writeFileAtomic } from '../zone/state/atomic.js';
import { defaultPaths, ensurePrivateDir } from '../zone/state/paths.js';
import { SUBID_FILES } from '../zone/subids.js';
import { runningCodeFiles } from './running-code.js';

/** Set by the native front end when it wants a description written: the canonical flags it parsed. */
export const LAUNCH_FLAGS_ENV = 'LXZONE_LAUNCH_FLAGS';
const US = '\x1f';

/** The flags of the plain form that shape the zone (the terminal is filled per run). */
export interface PlainRunFlags {
  network?: string;
  rootfs?: string;
}

export function canonicalLaunchFlags(f: PlainRunFlags): string {
  return `network=${f.network ?? ''}${US}rootfs=${f.rootfs ?? ''}`;
}

/** FNV-1a, 64 bits, over the UTF-8 bytes: the description's file name (a collision is a miss: the flags are compared). */
export function fnv1a64(s: string): string {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(s, 'utf8')) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h.toString(16).padStart(16, '0');
}

export function launchDescriptionPath(canonical: string, runtimeDir = defaultPaths().runtimeDir): string {
  return join(runtimeDir, 'launch', `run-${fnv1a64(canonical)}`);
}

/** run's flags the plain form may set. */
const PLAIN_KEYS = new Set(['network', 'rootfs', 'tty', 'interactive']);

/**
 * The plain form's flags, or undefined when the command line said more:
 * `flags` as commander parsed them, `source` commander's account of where
 * each came from (a default, such as --no-init's true, is not the user's).
 */
export function plainRunFlags(flags: Record<string, unknown>, source: (key: string) => string | undefined): PlainRunFlags | undefined {
  for (const k of Object.keys(flags)) {
    if (!PLAIN_KEYS.has(k) && flags[k] !== undefined && source(k) !== 'default') return undefined;
  }
  const { network, rootfs } = flags as PlainRunFlags;
  if (network !== undefined && network !== 'loopback' && network !== 'none') return undefined;
  return { ...(network !== undefined ? { network } : {}), ...(rootfs !== undefined ? { rootfs } : {}) };
}

/** The environment a description depends on: HOME, XDG_* and LXZONE_*, less the front end's own request and debug switch. */
export function launchInputEnv(env: NodeJS.ProcessEnv = process.env): [string, string][] {
  return Object.entries(env)
    .filter((e): e is [string, string] => e[1] !== undefined && (e[0] === 'HOME' || /^(XDG|LXZONE)_/.test(e[0])) && e[0] !== LAUNCH_FLAGS_ENV && e[0] !== 'LXZONE_DEBUG')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** A file as stat(2) sees it now (following links), or `absent`: the front end compares the same fields. */
function fileIdentity(path: string): string {
  try {
    const st = statSync(path, { bigint: true });
    return [path, st.dev, st.ino, st.size, st.mtimeNs, st.ctimeNs].join(US);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return `${path}${US}absent`;
    throw err;
  }
}

/** A directory's presence and identity (not its entries, which change as lxzone works). */
function dirIdentity(path: string): string {
  try {
    const st = statSync(path, { bigint: true });
    return [path, st.dev, st.ino].join(US);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return `${path}${US}absent`;
    throw err;
  }
}

/**
 * Every file the plan read: the policy's inputs (rules, tables, compiler), this installation's planning code
 * (the files whose code ran it, from `planner`, the run verb's module: the CLI's bundle when bundled, which a
 * rebuild replaces; else that module and every module of ours it imports) and shim, the subordinate-id files.
 */
function launchInputFiles(planner: string): string[] {
  return [...new Set([...policyInputFiles(), ...runningCodeFiles(planner), shimPath(), SUBID_FILES.uid, SUBID_FILES.gid])];
}

/** lxzone's own directories: hidden from the zone where present (hidden-paths.ts). */
function launchInputDirs(): string[] {
  const paths = defaultPaths();
  return [paths.stateDir, paths.runtimeDir];
}

/**
 * The description of a plain run with these flags and options (the run's own, so the plan is the one it runs
 * with); `planner` is the import.meta.url of the module that made the options (the run verb's).
 */
export function describeLaunch(canonical: string, opts: RunOptions, planner: string): Buffer {
  const t = planLaunchTemplate(opts);
  const records: string[] = [];
  const add = (key: LaunchDescriptionKey, value: string | number): void => {
    const v = String(value);
    if (v.includes('\0')) throw new Error(`launch description ${key} contains a NUL byte`);
    records.push(`${key}=${v}`);
  };
  // The seam's digest: a description from before a change of its facts (a shim config key every
  // new zone's config has, a handler id) is stale to the front end built with them.
  add('version', LAUNCH_DESCRIPTION_VERSION);
  add('flags', canonical);
  for (const f of launchInputFiles(planner)) add('input-file', fileIdentity(f));
  for (const d of launchInputDirs()) add('input-dir', dirIdentity(d));
  for (const [k, v] of launchInputEnv()) add('input-env', `${k}${US}${v}`);
  add('shim', shimPath());
  add('config', t.config.toString('hex'));
  add('filter', t.bpf.toString('hex'));
  const a = t.attachOptions;
  add('dispatch', a.dispatch.toString('hex'));
  add('hostname', a.hostname);
  if (a.kernelVersion !== undefined) add('kernel-version', a.kernelVersion);
  add('kernel-version-env', a.kernelVersionEnv ? 1 : 0);
  add('trace-string-args', (a.traceStringArgs ?? Buffer.alloc(0)).toString('hex'));
  if (a.driverFilter) add('driver-filter', a.driverFilter.toString('hex'));
  if (a.memoryLimit !== undefined || a.memoryUsageFile !== undefined || a.rebootMarker !== undefined) {
    throw new Error('a plain run has no memory cap or reboot marker: the description format has no place for them');
  }
  if (t.idClaim) {
    add('id-claim-dir', t.idClaim.dir);
    add('id-slots', `${t.idClaim.slots.first}${US}${t.idClaim.slots.count}`);
    add('id-range', `${t.idClaim.rangeStart}${US}${t.idClaim.rangeCount}`);
  }
  add('restart-burst', RESTART_BURST);
  add('restart-series-reset-ms', RESTART_SERIES_RESET_MS);
  add('restart-delay-ms', Array.from({ length: RESTART_BURST }, (_, n) => restartDelayMs(n, { reboot: true })).join(US));
  add('restart-limit-reason', restartLimitReason(RESTART_BURST));
  return Buffer.from(records.map((r) => `${r}\0`).join(''), 'utf8');
}

/**
 * `lxzone run`, before it starts the zone: when the native front end asked
 * for a description of exactly these flags, write it. Never fails the run:
 * a description not written only means the next run comes through Node too.
 */
export function writeLaunchDescriptionIfAsked(flags: Record<string, unknown>, source: (key: string) => string | undefined, opts: RunOptions, planner: string): void {
  const asked = process.env[LAUNCH_FLAGS_ENV];
  delete process.env[LAUNCH_FLAGS_ENV];
  if (asked === undefined) return;
  const plain = plainRunFlags(flags, source);
  const canonical = plain && canonicalLaunchFlags(plain);
  if (canonical !== asked) {
    if (process.env.LXZONE_DEBUG) process.stderr.write(`lxzone: launch description not written: the command line is not the plain form ${JSON.stringify(asked)}\n`);
    return;
  }
  try {
    const runtimeDir = defaultPaths().runtimeDir;
    ensurePrivateDir(runtimeDir);
    const dir = join(runtimeDir, 'launch');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    ensurePrivateDir(dir);
    const path = launchDescriptionPath(canonical, runtimeDir);
    writeFileAtomic(path, describeLaunch(canonical, opts, planner), 0o600, false, false);
    if (process.env.LXZONE_DEBUG) process.stderr.write(`lxzone: launch description written: ${path}\n`);
  } catch (err) {
    if (process.env.LXZONE_DEBUG) process.stderr.write(`lxzone: launch description not written: ${(err as Error).message}\n`);
  }
}
