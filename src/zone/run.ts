// The one route from a zone to a running zone (spec.ts): startZone plans it
// (shim-plan.ts), spawns lxzone-shim (the keeper and the zone it builds),
// attaches the zone to the supervisor, and follows it to its exit.
// `startOneShot`/`runZone` add what a one-shot zone's host does around it (a
// cgroup for its caps, restarts it asks for): `lxzone run` uses them;
// `startZone` gives the caller the running zone (signals, wait).
import { LxzoneError } from '../errors.js';
import { native } from '../native.js';
import { spawnShim, type ShimProcess } from './shim-process.js';
import { hasCaps } from './cgroups/limits.js';
import { createRunCaps } from './run-resources.js';
import { checkPlan, finishPlan, type ZonePlan } from './shim-plan.js';
import type { RunOptions } from './spec.js';
import { endOf, signalNumber, ZoneSession } from './session.js';
import { runWithRestarts, type RestartingRun } from './run-restarts.js';
import type { RunningZone, RunResult } from './running.js';

export { DEFAULT_ID_BASE, DEFAULT_PATH, ZONE_ID_COUNT, isRootless } from './shim-plan.js';
export type { JsCall, JsHandler, RunOptions, ZoneHosting, ZoneSpec } from './spec.js';
export type { ZoneStats } from './stats.js';
export type { RunningZone, RunResult } from './running.js';

export function startZone(opts: RunOptions): RunningZone {
  // What the caller's input can be refused for, before anything is made; the
  // rest of the plan (the id range's claim, the config's encoding) runs while
  // the shim's exec and start-up go on, which read the config only after
  // (issue 18: start to exit paired 0.94-0.96 against planning first).
  const policy = checkPlan(opts);

  const addon = native();
  const [ours, theirs] = addon.socketPair();
  const pipeMode = opts.stdio === 'pipe';
  let child: ShimProcess;
  try {
    child = spawnShim({
      args: ['--config-fd', '3', '--seccomp-fd', '4', '--control-fd', '5'],
      control: theirs,
      stdio: opts.stdio === 'fds' && opts.stdioFds ? opts.stdioFds : pipeMode ? 'pipe' : 'inherit',
      // fds 3-5 are the shim's own (config, filter, control); --preserve-fds follow from 6 (shim-plan.ts).
      preserveFds: opts.preserveFds,
      detached: opts.detached ?? false,
    });
    if (opts.detached) child.unref();
  } catch (err) {
    addon.closeFd(ours);
    throw err;
  } finally {
    addon.closeFd(theirs);
  }
  // A start given up after the spawn: the shim killed (reaped by its pidfd's
  // watch) and our ends of everything closed, none left to hold the loop open.
  const abandon = () => {
    addon.closeFd(ours);
    child.kill('SIGKILL');
    child.dropInput();
    for (const s of [child.stdin, child.stdout, child.stderr]) s?.destroy();
  };
  let plan: ZonePlan | undefined;
  try {
    plan = finishPlan(opts, policy);
    child.fill(plan.config, plan.bpf);
  } catch (err) {
    abandon(); // the shim waits for its config: it has made nothing
    plan?.idClaim?.release(); // finishPlan releases its own on a throw
    throw err;
  }
  const { attachOptions, idClaim } = plan;
  // A shim that fails at once closes its stdin: writing it then fails (EPIPE), and the shim's own report says why.
  if (pipeMode) {
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(opts.input ?? '');
  }

  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout?.on('data', (d: Buffer) => stdout.push(d));
  child.stderr?.on('data', (d: Buffer) => stderr.push(d));
  // The exit can come before the last bytes of the pipes are read: the result
  // waits for both to end (a zone's processes die with it, so they do; an
  // exec'd command's background child may keep them open: bounded below).
  const drained = Promise.all(
    [child.stdout, child.stderr].map((s) => (s ? new Promise<void>((r) => s.once('end', r).once('close', r)) : Promise.resolve())),
  );

  const { onCreated, onEvent, onTrace, jsHandlers } = opts;
  const session = new ZoneSession(attachOptions, { onCreated, onEvent, onTrace, jsHandlers, binary: opts.argv[0] });
  try {
    session.attach(ours);
  } catch (err) {
    abandon();
    idClaim?.release();
    throw err;
  }

  const wait = async (): Promise<RunResult> => {
    const { code, signal } = await child.exited.finally(() => idClaim?.release());
    if (pipeMode) {
      let drainTimer: NodeJS.Timeout | undefined;
      await Promise.race([drained, new Promise((r) => (drainTimer = setTimeout(r, 2000)))]);
      clearTimeout(drainTimer);
    }
    // Every control message is read before the supervisor sees the socket close.
    let timer: NodeJS.Timeout | undefined;
    if (session.isAttached) await Promise.race([session.closed, new Promise((r) => (timer = setTimeout(r, 2000)))]);
    clearTimeout(timer);
    session.detach();
    session.settle();
    if (session.failure) throw session.failure;
    if (signal) {
      // The keeper itself was killed: its zone died with it (die-with-parent).
      throw new LxzoneError(`the zone's keeper was killed by ${signal}`, { exitCode: 128 + signalNumber(signal) });
    }
    const end = endOf(code ?? 125, session.reboot);
    const result: RunResult = { exitCode: end.exitCode, stats: session.counters(), unsupported: session.unsupported };
    if (end.signal) result.signal = end.signal;
    if (end.reboot) result.reboot = end.reboot;
    if (pipeMode) {
      result.stdout = Buffer.concat(stdout);
      result.stderr = Buffer.concat(stderr);
    }
    return result;
  };

  let waiting: Promise<RunResult> | undefined;
  return {
    keeperPid: child.pid,
    initPid: session.initPid,
    session,
    kill(sig: NodeJS.Signals | number = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) {
        // Not served here (handed over, or closed): the keeper forwards what it receives.
        if (session.isAttached) session.signal(sig);
        else child.kill(sig);
      }
    },
    handOff() {
      if (!session.isAttached) return;
      if (!opts.reattachSocket) throw new LxzoneError('handOff: the zone has no re-attach socket for another supervisor to take it over');
      session.detach();
    },
    takeBack() {
      if (session.isAttached || !opts.reattachSocket) return;
      session.reattach(opts.reattachSocket);
    },
    wait() {
      waiting ??= wait();
      return waiting;
    },
  };
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
 * A one-shot zone as its host runs it: with `limits`, in a cgroup of its own
 * (and its own /proc view), removed when the zone has exited; a zone that
 * asks to restart (reboot(2)) is run again, within the restart limit
 * (run-restarts.ts: `restartLimit` in the result when it was reached).
 * `lxzone run` relays signals to `current()`.
 */
export async function startOneShot(opts: RunOptions): Promise<RestartingRun> {
  const caps = hasCaps(opts.limits) ? await createRunCaps(opts.limits) : undefined;
  const zoneOpts: RunOptions = caps
    ? {
        ...opts,
        cgroupProcs: [...(opts.cgroupProcs ?? []), ...caps.cgroup.procsFiles()],
        procBinds: [...(opts.procBinds ?? []), ...caps.procBinds],
        memoryLimit: opts.memoryLimit ?? opts.limits?.memory ?? undefined,
        memoryUsageFile: opts.memoryUsageFile ?? caps.memoryUsageFile,
      }
    : opts;
  const run = runWithRestarts(() => startZone(zoneOpts));
  return { ...run, result: run.result.finally(() => caps?.release()) };
}

/** Runs a binary in a fresh zone (startOneShot) and returns when it exits. */
export async function runZone(opts: RunOptions): Promise<RunResult> {
  return (await startOneShot(opts)).result;
}
