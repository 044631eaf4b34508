// lxzone exec: a new process in a running zone (its namespaces, user, filter),
// started from the caller's process so that it has the caller's stdio and
// terminal. The daemon says which process is the zone's init and which
// policy the zone booted with. This process's supervisor serves the new
// process while it is set up (its errors are the caller's to report); once
// it runs, the caller hands it over to the daemon's supervisor, the zone's
// (api.ts), through the exec keeper's re-attach socket.
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { LxzoneError } from '../../errors.js';
import { resolveUser } from '../config/user.js';
import { prepareZoneRootfs, zoneProcess } from '../image/prepare.js';
import { execInZone, type RunningZone, type RunOptions } from '../run.js';
import type { ZoneStore } from '../state/store.js';
import type { ZoneConfig } from '../config/types.js';
import type { AttachRecord } from './plan.js';
import { zoneIds } from '../ids.js';
import { isRoot } from './options.js';

export interface ExecOptions {
  argv: string[];
  /** A pseudo-terminal (docker's -t). */
  tty?: boolean;
  /**
   * 'inherit': our stdin/stdout/stderr; 'pipe': collected (stdin from `input`); 'no-stdin': our stdout/stderr, stdin /dev/null;
   * 'fds': `stdioFds` (the portal's terminal: a host pty's slave, which the keeper relays to the zone's own pty).
   */
  stdio?: 'inherit' | 'pipe' | 'no-stdin' | 'fds';
  stdioFds?: [number, number, number];
  input?: string | Buffer;
  /** Added to the zone's environment. */
  env?: Record<string, string>;
  cwd?: string;
  /** uid[:gid] or name[:group] of the zone (default: the zone's user). */
  user?: string;
}

export interface ExecTarget {
  name: string;
  initPid: number;
  keeperPid: number;
  attach: AttachRecord;
  config: ZoneConfig;
  /** The zone's cgroup.procs files (one per hierarchy): the exec'd process is placed there before it joins the zone. */
  cgroupProcs?: string[];
}

/** Where exec keepers of this installation listen for the daemon. */
function execSocketDir(store: ZoneStore): string {
  return join(store.runtimeDir, 'exec');
}

/** A new exec keeper's re-attach socket (its directory made, private). */
export function newExecSocket(store: ZoneStore): string {
  const dir = execSocketDir(store);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return join(dir, `${randomBytes(8).toString('hex')}.sock`);
}

/** Whether `path` is one newExecSocket() could have made: the daemon connects to nothing else. */
export function isExecSocket(store: ZoneStore, path: string): boolean {
  return dirname(path) === execSocketDir(store) && /^[0-9a-f]{16}\.sock$/.test(basename(path));
}

/**
 * The daemon's note of which zone an exec socket's process belongs to, kept
 * while it serves it, so that a restarted daemon takes the process back.
 */
export function execRecordOf(socket: string): string {
  return socket.replace(/\.sock$/, '.zone');
}

/** Exec sockets with a daemon's note: [socket, zone name] (a note without its socket is removed). */
export function recordedExecs(store: ZoneStore): [string, string][] {
  const dir = execSocketDir(store);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: [string, string][] = [];
  for (const n of names.filter((f) => /^[0-9a-f]{16}\.zone$/.test(f))) {
    const record = join(dir, n);
    const socket = record.replace(/\.zone$/, '.sock');
    const zone = readFileSync(record, 'utf8').trim();
    if (existsSync(socket)) out.push([socket, zone]);
    else rmSync(record, { force: true });
  }
  return out;
}

/** How the exec'd process is served: by this process until it runs, then by whoever takes it over. */
export type ExecServing = Pick<RunOptions, 'reattachSocket' | 'reattachTimeoutSeconds' | 'onEvent'>;

export function startExec(store: ZoneStore, target: ExecTarget, o: ExecOptions, serving: ExecServing = {}): RunningZone {
  const cfg = target.config;
  const ids = zoneIds(store, cfg.name);
  const prepared = prepareZoneRootfs(store, cfg, ids ? { idShift: ids.idBase } : {});
  const proc = zoneProcess(cfg, prepared.image);
  const spec = o.user ?? proc.user;
  const user = spec !== undefined ? resolveUser(spec, prepared.readFile ?? prepared.rootfs ?? '/') : { uid: 0, gid: 0 };
  // The zone's supervisor settings, policy and ids as its runtime record has
  // them (plan.ts AttachRecord: spec and hosting fields by their names); a
  // rootless zone's ids are the caller's own.
  const { idBase, ...zone } = target.attach;
  const opts: Omit<RunOptions, 'joinPid' | 'rootfs' | 'binds' | 'procBinds' | 'tmpfs' | 'init' | 'onCreated'> = {
    ...zone,
    ...(isRoot() ? { idBase } : {}),
    argv: o.argv,
    env: { ...proc.env, ...(o.env ?? {}) },
    cwd: o.cwd ?? proc.cwd,
    uid: user.uid,
    gid: user.gid,
    ...(o.tty ? { tty: true } : {}),
    // In the zone's cgroups before it runs one instruction of the zone's
    // (the keeper places it, then it joins the namespaces), so the zone's
    // caps hold for it and stats count it.
    ...(target.cgroupProcs?.length ? { cgroupProcs: target.cgroupProcs } : {}),
    // Never the caller's fds: pipes (or the pty) the keeper relays.
    relayStdio: true,
    ...serving,
  };
  if (o.stdio === 'pipe') return execInZone(target.initPid, { ...opts, stdio: 'pipe', ...(o.input !== undefined ? { input: o.input } : {}) });
  if (o.stdio === 'fds') {
    if (!o.stdioFds) throw new LxzoneError("exec: stdio 'fds' needs stdioFds", { code: 'EINVAL' });
    return execInZone(target.initPid, { ...opts, stdio: 'fds', stdioFds: o.stdioFds });
  }
  if (o.stdio === 'no-stdin') {
    const devnull = openSync('/dev/null', 'r');
    try {
      return execInZone(target.initPid, { ...opts, stdio: 'fds', stdioFds: [devnull, 1, 2] });
    } finally {
      closeSync(devnull);
    }
  }
  return execInZone(target.initPid, { ...opts, stdio: 'inherit' });
}
