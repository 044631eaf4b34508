// Running a binary in a zone: compile the zone's policy, spawn lxzone-shim
// (the keeper and the zone it builds), attach the zone to the supervisor,
// and follow it to its exit. `runZone` is the one-shot path `lxzone run`
// uses; `startZone` gives the caller the running zone (signals, wait).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, realpathSync, statSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { LxzoneError, errnoName } from '../errors.js';
import { ControlType, native, shimPath } from '../native.js';
import type { ZoneEvent } from './events.js';
import { compilePolicy, type CompileInput, type CompiledPolicy } from '../policy/compile.js';
import { hostAbis, loadTable } from '../tables/index.js';
import type { ZoneLimits } from './cgroups/index.js';
import { claimTransientIdRange, defaultIdBase } from './ids.js';
import { assertZoneRangeDelegated, zoneIdCount } from './subids.js';
import { createRunCaps, hasCaps } from './run-resources.js';
import { checkRootCow, cowMasks, DEFAULT_COW_TMPFS_BYTES, type RootCow } from './cow-root.js';
import type { BindMount } from './config/types.js';
import { encodeShimConfig, type ShimTmpfs } from './shim-config.js';
import { addStats, statsOf, type ZoneStats } from './stats.js';
import { supervisor, supervisorOptions } from './supervisor.js';
import { formatTraceEvent } from './trace-format.js';
import { runWithRestarts } from './run-restarts.js';
import { lxzoneHostDirs, zonePathsToHide } from './hidden-paths.js';
import type { SyscallRules } from '../policy/types.js';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
export const DEFAULT_ID_BASE = 100000;
export const ZONE_ID_COUNT = 65536;

export interface RunOptions {
  argv: string[];
  /** A directory to use as the zone's root; default: the host's root, read-only. */
  rootfs?: string;
  rootfsWritable?: boolean;
  /** The host's root, copy-on-write (src/zone/cow-root.ts); excludes rootfs. */
  rootCow?: RootCow;
  hostname?: string;
  /** The uname release the zone reports; default: the host's. */
  kernelVersion?: string;
  /**
   * Let a process choose its own release with LXZONE_KERNEL_VERSION in its
   * environment (as the LX brand allowed). Off by default: it costs a read of
   * the caller's environment on every uname.
   */
  kernelVersionEnv?: boolean;
  profile?: string;
  extraRules?: SyscallRules[];
  allowNesting?: boolean;
  env?: Record<string, string>;
  cwd?: string;
  uid?: number;
  gid?: number;
  /** 'inherit' passes this process's stdio through; 'pipe' collects stdout/stderr; 'fds' uses stdioFds. */
  stdio?: 'inherit' | 'pipe' | 'fds';
  /** stdin for stdio 'pipe' (default: empty). */
  input?: string | Buffer;
  /** A small reaper as pid 1 (default), or the binary itself as pid 1. */
  init?: boolean;
  network?: 'none' | 'loopback' | 'zone';
  binds?: BindMount[];
  procBinds?: BindMount[];
  /** A pseudo-terminal for the binary (docker's -t); the keeper relays it to our stdio. */
  tty?: boolean;
  /** A system zone (docs/parts/system-zones.md): the binary is the image's init, given what systemd needs. */
  system?: boolean;
  /** cgroup procs files to place the zone in before it runs (the keeper writes its pid). */
  cgroupProcs?: string[];
  /** Join the running zone whose init has this host pid instead of creating one (see execInZone). */
  joinPid?: number;
  /** Extra tmpfs mounts in the zone (paths resolved inside the zone's root). */
  tmpfs?: ShimTmpfs[];
  /** Host directories of lxzone's the zone must not see, besides the caller's default state and runtime directories. */
  hiddenHostDirs?: string[];
  tmpSize?: string;
  /** Host uid/gid that the zone's root maps to. */
  idBase?: number;
  /** Host-side setup between the zone's creation and its start (cgroups, network): the zone waits for it. */
  onCreated?: (initPid: number) => Promise<void> | void;
  /** strace-style lines for syscalls the profile marks `trace`. */
  onTrace?: (line: string, event: Extract<ZoneEvent, { type: 'trace' }>) => void;
  /** Every supervisor event of the zone, for callers that want them. */
  onEvent?: (event: ZoneEvent) => void;
  /** Handlers for syscalls whose disposition is emulate:js, by syscall name. */
  jsHandlers?: Record<string, JsHandler>;
  /** Memory cap for sysinfo's view (the cgroup enforces it). */
  memoryLimit?: number;
  memoryUsageFile?: string;
  /** A file a granted reboot(2) is recorded in before the zone ends (a daemon reads it). */
  rebootMarker?: string;
  /** Keep the keeper alive if this process dies (daemon-managed zones). */
  detached?: boolean;
  /** A socket path where a restarted supervisor can take the zone back (see attachRunningZone). */
  reattachSocket?: string;
  /** Seconds a zone waits for a supervisor to come back before it is stopped (default 30). */
  reattachTimeoutSeconds?: number;
  /** stdio file descriptors for the keeper when stdio is 'fds'. */
  stdioFds?: [number, number, number];
  /**
   * The zone's stdin/stdout/stderr are pipes its keeper owns and relays to
   * the keeper's own stdio (as docker exec does): no zone process ever holds
   * one of our fds (a terminal, a file).
   */
  relayStdio?: boolean;
  /** The keeper writes the zone's output to these files (implies relayStdio), each kept under fileMaxBytes with one rotated copy. */
  logFiles?: { stdout: string; stderr: string; fileMaxBytes: number };
}

export interface JsCall {
  pid: number;
  abi: string;
  nr: number;
  args: bigint[];
}
/** Returns the syscall's result (>= 0) or throws/returns a negative errno. */
export type JsHandler = (call: JsCall) => number | Promise<number>;

export type { ZoneStats } from './stats.js';

export interface RunResult {
  exitCode: number;
  /** The signal that ended the binary, when one did. */
  signal?: string;
  stdout?: Buffer;
  stderr?: Buffer;
  /** The zone asked to halt (reboot(2) HALT / POWER_OFF) or restart. */
  reboot?: 'halt' | 'restart';
  /** runZone / lxzone run: how many times the zone was restarted in a row (reboot(2)). */
  restarts?: number;
  /** Set when the restart limit ended a series of restarts (why; the zone is not run again). */
  restartLimit?: string;
  stats: ZoneStats;
  unsupported: { abi: string; nr: number }[];
}

export interface RunningZone {
  /** Host pid of the keeper (the shim process). */
  readonly keeperPid: number;
  /** Host pid of the zone's init, once created. */
  readonly initPid: Promise<number>;
  /** Sends a signal to the zone's init (forwarded by the keeper). */
  kill(signal?: NodeJS.Signals | number): void;
  wait(): Promise<RunResult>;
  /**
   * Stops serving the zone's notified syscalls from this process, for
   * another supervisor to take over through the keeper's re-attach socket
   * (`reattachSocket`, required). They wait in the kernel meanwhile, for at
   * most the keeper's re-attach timeout. `wait()` still reports the exit
   * (the keeper is our child); its stats stop at the hand-over.
   */
  handOff(): void;
  /** After handOff(): serves the zone from this process again (the other supervisor did not take it). */
  takeBack(): void;
}

function defaultEnv(opts: RunOptions, hostname: string): string[] {
  const env: Record<string, string> = { PATH: DEFAULT_PATH, HOME: opts.uid ? '/' : '/root', HOSTNAME: hostname, container: 'lxzone' };
  if (process.env.TERM) env.TERM = process.env.TERM;
  Object.assign(env, opts.env ?? {});
  return Object.entries(env).map(([k, v]) => `${k}=${v}`);
}

function signalNumber(sig: NodeJS.Signals | number): number {
  if (typeof sig === 'number') return sig;
  const n = (osConstants.signals as Record<string, number>)[sig];
  if (n === undefined) throw new LxzoneError(`unknown signal ${sig}`);
  return n;
}

function signalName(n: number): string | undefined {
  return Object.entries(osConstants.signals).find(([, v]) => v === n)?.[0];
}

function checkOptions(opts: RunOptions): void {
  if (!opts.argv.length || opts.argv[0] === '') throw new LxzoneError('nothing to run: give a command after --', { exitCode: 2 });
  if (opts.rootfs !== undefined) {
    if (!opts.rootfs.startsWith('/')) throw new LxzoneError(`--rootfs ${opts.rootfs}: must be an absolute path`, { exitCode: 2 });
    if (!existsSync(opts.rootfs)) throw new LxzoneError(`--rootfs ${opts.rootfs}: no such directory`, { exitCode: 125, code: 'ENOENT' });
    if (!statSync(opts.rootfs).isDirectory()) throw new LxzoneError(`--rootfs ${opts.rootfs}: not a directory`, { exitCode: 125, code: 'ENOTDIR' });
    // Whoever can change a link on the way chooses the zone's root: refuse it
    // (the shim refuses it too, opening the path with no symlink allowed).
    const real = realpathSync(opts.rootfs);
    if (real !== opts.rootfs.replace(/\/+$/, '') && opts.rootfs !== '/') {
      throw new LxzoneError(`--rootfs ${opts.rootfs}: goes through a symlink (it resolves to ${real}); give the real path`, { exitCode: 125, code: 'ELOOP' });
    }
  }
  checkRootCow(opts, isRootless());
  if (opts.hostname !== undefined && !/^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$/.test(opts.hostname) || (opts.hostname?.length ?? 0) > 64) {
    throw new LxzoneError(`hostname ${JSON.stringify(opts.hostname)}: must be letters, digits, '-' and '.' (RFC 1123), at most 64 bytes`, { exitCode: 2, code: 'EINVAL' });
  }
  if (isRootless()) {
    // The caller's own uid is the zone's only id; bridges and cgroups need root.
    if (opts.network === 'zone') throw new LxzoneError('a zone network needs root: run as root, or use --network loopback|none', { exitCode: 125, code: 'EPERM' });
    if (opts.cgroupProcs?.length) throw new LxzoneError('resource caps (cgroups) need root on this host', { exitCode: 125, code: 'EPERM' });
    if (opts.uid || opts.gid) throw new LxzoneError('a rootless zone has one user (root, which is you); --user needs root', { exitCode: 125, code: 'EPERM' });
  }
}

export function isRootless(): boolean {
  return process.getuid?.() !== 0;
}

// Compiling a profile takes milliseconds and its result depends only on the
// input and the tables, so a process keeps what it compiled (profiles named
// here are files read once; a Profile object is keyed by its JSON).
const policyCache = new Map<string, CompiledPolicy>();
function compiledPolicy(input: CompileInput): CompiledPolicy {
  const key = JSON.stringify(input);
  let hit = policyCache.get(key);
  if (!hit) {
    hit = compilePolicy(input);
    if (policyCache.size > 64) policyCache.clear();
    policyCache.set(key, hit);
  }
  return hit;
}

export function startZone(opts: RunOptions): RunningZone {
  checkOptions(opts);
  const abis = hostAbis();
  const policy = compiledPolicy({
    profile: opts.profile ?? 'default',
    abis,
    extraRules: opts.extraRules,
    allowNesting: opts.allowNesting,
  });
  const hostname = opts.hostname ?? 'lxzone';
  // A zone on a read-only root gets a host id range of its own for as long as
  // it runs; a writable root (an unpacked image) owns files under the range
  // it was unpacked for, which the caller passes (or the default).
  const idClaim = opts.idBase === undefined && !opts.rootfsWritable && !isRootless() && opts.joinPid === undefined
    ? claimTransientIdRange()
    : undefined;
  let idBase: number;
  try {
    idBase = opts.idBase ?? idClaim?.idBase ?? (isRootless() ? DEFAULT_ID_BASE : defaultIdBase());
    // Every root zone's range: inside lxzone's delegation, no other owner's subordinate ids in it.
    if (!isRootless() && opts.joinPid === undefined) assertZoneRangeDelegated(idBase, zoneIdCount());
  } catch (err) {
    idClaim?.release();
    throw err;
  }
  const attachOptions = supervisorOptions(abis, policy.dispatch, {
    hostname,
    kernelVersion: opts.kernelVersion,
    kernelVersionEnv: opts.kernelVersionEnv,
    memoryLimit: opts.memoryLimit,
    memoryUsageFile: opts.memoryUsageFile,
    rebootMarker: opts.rebootMarker,
  });

  let config: Buffer;
  try {
    config = encodeShimConfig({
    argv: opts.argv,
    env: defaultEnv(opts, hostname),
    rootfs: opts.rootfs,
    rootfsWritable: opts.rootfsWritable,
    ...(opts.rootCow
      ? {
          rootCow: {
            ...(opts.rootCow.dir ? { dir: opts.rootCow.dir } : {}),
            size: `${Math.max(1, Math.ceil((opts.rootCow.sizeBytes ?? DEFAULT_COW_TMPFS_BYTES) / 1024))}k`,
          },
          masks: cowMasks(),
        }
      : {}),
    hostname,
    cwd: opts.cwd ?? '/',
    idBase,
    idCount: isRootless() ? ZONE_ID_COUNT : zoneIdCount(),
    uid: opts.uid ?? 0,
    gid: opts.gid ?? 0,
    init: opts.init ?? true,
    hold: opts.onCreated !== undefined,
    dieWithParent: !opts.detached,
    reattachSocket: opts.reattachSocket,
    reattachTimeoutSeconds: opts.reattachTimeoutSeconds,
    network: opts.network ?? 'loopback',
    tmpSize: opts.tmpSize,
    binds: opts.binds ?? [],
    procBinds: opts.procBinds ?? [],
    tmpfs: opts.tmpfs ?? [],
    // exec joins a zone whose mounts are made: nothing to hide then.
    hide: opts.joinPid === undefined ? zonePathsToHide(lxzoneHostDirs(opts.hiddenHostDirs), opts.rootfs, opts.binds ?? []) : [],
    tty: opts.tty,
    system: opts.system,
    joinPid: opts.joinPid,
    cgroupProcs: opts.cgroupProcs,
    // A keeper that a supervisor can come back to serves the zone itself meanwhile.
    ...(opts.reattachSocket ? { serve: attachOptions } : {}),
    relayStdio: opts.relayStdio,
    logs: opts.logFiles,
    });
  } catch (err) {
    idClaim?.release();
    throw err;
  }

  const addon = native();
  const [ours, theirs] = addon.socketPair();
  const pipeMode = opts.stdio === 'pipe';
  const zoneStdio = opts.stdio === 'fds' && opts.stdioFds ? opts.stdioFds : pipeMode ? ['pipe', 'pipe', 'pipe'] as const : ['inherit', 'inherit', 'inherit'] as const;
  let child: ChildProcess;
  try {
    child = spawn(shimPath(), ['--config-fd', '3', '--seccomp-fd', '4', '--control-fd', '5'], {
      stdio: [...zoneStdio, 'pipe', 'pipe', theirs],
      detached: opts.detached ?? false,
    });
    if (opts.detached) child.unref();
  } catch (err) {
    addon.closeFd(ours);
    addon.closeFd(theirs);
    idClaim?.release();
    throw err;
  }
  addon.closeFd(theirs);
  // A shim that refuses its input exits without reading all of it: the write
  // then fails (EPIPE/ECONNRESET), and the shim's own report says why.
  for (const [fd, bytes] of [[3, config], [4, policy.bpf]] as const) {
    const stream = child.stdio[fd] as NodeJS.WritableStream;
    stream.on('error', () => undefined);
    stream.end(bytes);
  }
  if (pipeMode) child.stdin?.end(opts.input ?? '');

  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout?.on('data', (d: Buffer) => stdout.push(d));
  child.stderr?.on('data', (d: Buffer) => stderr.push(d));
  // 'exit' can come before the last bytes of the pipes are read: the result
  // waits for both to end (a zone's processes die with it, so they do; an
  // exec'd command's background child may keep them open: bounded below).
  const drained = Promise.all(
    [child.stdout, child.stderr].map((s) => (s ? new Promise<void>((r) => s.once('end', r).once('close', r)) : Promise.resolve())),
  );

  const sup = supervisor();
  let resolveInit!: (pid: number) => void;
  let rejectInit!: (err: Error) => void;
  const initPid = new Promise<number>((res, rej) => {
    resolveInit = res;
    rejectInit = rej;
  });
  initPid.catch(() => undefined);

  let failure: LxzoneError | undefined;
  let reboot: 'halt' | 'restart' | undefined;
  const unsupported: { abi: string; nr: number }[] = [];
  let zoneId = 0;
  let closedResolve!: () => void;
  let closed = new Promise<void>((res) => (closedResolve = res));

  const onEvent = (ev: ZoneEvent): void => {
    opts.onEvent?.(ev);
    switch (ev.type) {
      case 'created':
        resolveInit(ev.initPid);
        if (opts.onCreated) {
          Promise.resolve()
            .then(() => opts.onCreated!(ev.initPid))
            .then(
              () => sup.raw.send(zoneId, ControlType.continue),
              (err: unknown) => {
                failure = new LxzoneError(`zone setup failed on the host: ${(err as Error).message}`, { exitCode: 125, cause: err });
                sup.raw.send(zoneId, ControlType.abort);
              },
            );
        }
        break;
      case 'setup-failed':
        failure ??= new LxzoneError(`zone setup failed: ${ev.step ?? errnoName(ev.errno)}`, { errno: ev.errno || undefined, exitCode: 125 });
        break;
      case 'exec-failed': {
        const code = errnoName(ev.errno);
        const why = code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : code;
        failure = new LxzoneError(`cannot run ${ev.path ?? opts.argv[0]} in the zone: ${why} (${code})`, {
          errno: ev.errno,
          exitCode: code === 'ENOENT' ? 127 : 126,
        });
        break;
      }
      case 'unsupported':
        unsupported.push({ abi: ev.abi, nr: ev.nr });
        break;
      case 'trace':
        opts.onTrace?.(formatTraceEvent(ev), ev);
        break;
      case 'reboot':
        reboot = ev.action;
        break;
      case 'js-call':
        answerJsCall(ev);
        break;
      case 'closed':
        closedResolve();
        break;
      default:
        break;
    }
  };

  const answerJsCall = (ev: Extract<ZoneEvent, { type: 'js-call' }>): void => {
    const call: JsCall = { pid: ev.pid, abi: ev.abi, nr: ev.nr, args: ev.args };
    const name = nameOf(ev.abi, ev.nr);
    const handler = name ? opts.jsHandlers?.[name] : undefined;
    const reply = (value: number): void => {
      if (value < 0) sup.raw.respond(zoneId, ev.id, 0, -value);
      else sup.raw.respond(zoneId, ev.id, value, 0);
    };
    if (!handler) return reply(-38); // ENOSYS
    Promise.resolve()
      .then(() => handler(call))
      .then(reply, (err: unknown) => reply(-((err as { errno?: number }).errno ?? 38)));
  };

  try {
    zoneId = sup.attach(ours, attachOptions, onEvent);
  } catch (err) {
    addon.closeFd(ours);
    child.kill('SIGKILL');
    idClaim?.release();
    throw err;
  }

  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.on('exit', (code, signal) => res({ code, signal })),
  );
  const spawnError = new Promise<never>((_, rej) =>
    child.on('error', (err) => rej(new LxzoneError(`cannot start lxzone-shim: ${err.message}`, { exitCode: 125, cause: err }))),
  );
  spawnError.catch(() => undefined);

  // After handOff(): the counters at the hand-over, and no control socket of ours.
  let handedOver: ZoneStats | undefined;
  // After takeBack(): what was counted before the hand-over.
  let earlier: ZoneStats | undefined;
  const wait = async (): Promise<RunResult> => {
    const { code, signal } = await Promise.race([exited, spawnError]).finally(() => idClaim?.release());
    if (pipeMode) {
      let drainTimer: NodeJS.Timeout | undefined;
      await Promise.race([drained, new Promise((r) => (drainTimer = setTimeout(r, 2000)))]);
      clearTimeout(drainTimer);
    }
    // Every control message is read before the supervisor sees the socket close.
    let timer: NodeJS.Timeout | undefined;
    if (!handedOver) await Promise.race([closed, new Promise((r) => (timer = setTimeout(r, 2000)))]);
    clearTimeout(timer);
    let stats = handedOver ?? statsOf(sup.raw.counters(zoneId));
    if (earlier && !handedOver) stats = addStats(earlier, stats);
    if (!handedOver) sup.detach(zoneId);
    rejectInit(new LxzoneError('the zone never started'));
    if (failure) throw failure;
    if (signal) {
      // The keeper itself was killed: its zone died with it (die-with-parent).
      throw new LxzoneError(`the zone's keeper was killed by ${signal}`, { exitCode: 128 + signalNumber(signal) });
    }
    const exitCode = code ?? 125;
    const result: RunResult = { exitCode, stats, unsupported };
    if (exitCode > 128 && exitCode < 128 + 65) result.signal = signalName(exitCode - 128);
    if (reboot) result.reboot = reboot;
    if (reboot === 'halt') result.exitCode = 0;
    if (pipeMode) {
      result.stdout = Buffer.concat(stdout);
      result.stderr = Buffer.concat(stderr);
    }
    return result;
  };

  let waiting: Promise<RunResult> | undefined;
  return {
    keeperPid: child.pid ?? -1,
    initPid,
    kill(sig: NodeJS.Signals | number = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) {
        // Handed over, the control socket is another's: the keeper forwards what it receives.
        if (handedOver) child.kill(sig);
        else sup.raw.send(zoneId, ControlType.signal, signalNumber(sig));
      }
    },
    handOff() {
      if (handedOver) return;
      if (!opts.reattachSocket) throw new LxzoneError('handOff: the zone has no re-attach socket for another supervisor to take it over');
      handedOver = statsOf(sup.raw.counters(zoneId));
      if (earlier) handedOver = addStats(earlier, handedOver);
      sup.detach(zoneId);
      closedResolve();
    },
    takeBack() {
      if (!handedOver) return;
      closed = new Promise<void>((res) => (closedResolve = res));
      zoneId = sup.reattach(opts.reattachSocket!, attachOptions, onEvent);
      earlier = handedOver;
      handedOver = undefined;
    },
    wait() {
      waiting ??= wait();
      return waiting;
    },
  };
}

let nameCache: Map<string, Map<number, string>> | undefined;
function nameOf(abi: string, nr: number): string | undefined {
  nameCache ??= new Map();
  let m = nameCache.get(abi);
  if (!m) {
    m = new Map();
    for (const a of hostAbis()) if (a === abi) for (const sc of loadTable(a).syscalls) m.set(sc.nr, sc.name);
    nameCache.set(abi, m);
  }
  return m.get(nr);
}


/**
 * A new process in a running zone (lxzone exec): the zone's namespaces,
 * user, filter (compiled from the same profile and rules) and supervisor,
 * with stdio of its own. `zoneInitPid` is the host pid of the zone's init.
 */
export function execInZone(zoneInitPid: number, opts: Omit<RunOptions, 'joinPid' | 'rootfs' | 'binds' | 'procBinds' | 'tmpfs' | 'init' | 'onCreated'>): RunningZone {
  return startZone({ ...opts, joinPid: zoneInitPid, init: false });
}

/**
 * Runs a binary in a fresh zone and returns when it exits; a zone that asks
 * to restart (reboot(2)) is run again, within the restart limit
 * (run-restarts.ts: `restartLimit` in the result when it was reached). With `limits`, the zone runs in a
 * cgroup of its own with those caps, removed when it has exited.
 */
export async function runZone(opts: RunOptions & { limits?: ZoneLimits }): Promise<RunResult> {
  const { limits, ...rest } = opts;
  const caps = hasCaps(limits) ? await createRunCaps(limits) : undefined;
  const zoneOpts: RunOptions = caps
    ? {
        ...rest,
        cgroupProcs: [...(rest.cgroupProcs ?? []), ...caps.cgroup.procsFiles()],
        procBinds: [...(rest.procBinds ?? []), ...caps.procBinds],
        memoryLimit: rest.memoryLimit ?? limits?.memory ?? undefined,
        memoryUsageFile: rest.memoryUsageFile ?? caps.memoryUsageFile,
      }
    : rest;
  try {
    return await runWithRestarts(() => startZone(zoneOpts)).result;
  } finally {
    await caps?.release();
  }
}
