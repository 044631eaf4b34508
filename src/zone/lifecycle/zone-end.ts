// A zone served by the daemon, from the moment it runs (booted, or taken back
// after a daemon restart) to its end: the host side cleaned, its last exit
// kept, and its restart policy applied (restart.ts decides, RestartSchedule
// waits out the back-off, the manager's queue boots it again).
import { rmSync } from 'node:fs';
import type { ZoneConfig } from '../config/types.js';
import type { ZoneEvent } from '../events.js';
import type { ZoneEnd } from '../session.js';
import { emptyStats } from '../stats.js';
import type { ZoneHandle } from './handle.js';
import { cleanupHost, type HostSetup } from './host-setup.js';
import type { ManagedZone, ManagerState } from './managed-zone.js';
import { decideRestart, RESTART_SERIES_RESET_MS, restartDelayMs } from './restart.js';
import { setDesired, socketPath, takeRebootMarker } from './zone-files.js';

/** What the daemon's log says of a zone's events. */
export function onZoneEvent(m: ManagerState, name: string, ev: ZoneEvent): void {
  if (ev.type === 'unsupported') {
    m.log(`zone ${name}: unsupported syscall ${ev.abi} ${ev.nr} (ENOSYS)`);
    m.unsupported.add(name, ev);
  }
  if (ev.type === 'reboot') m.log(`zone ${name}: reboot(2) ${ev.action.toUpperCase()} from inside the zone`);
}

/** Starts serving a zone: the handling of its end. */
export function adoptZone(m: ManagerState, name: string, handle: ZoneHandle, setup: HostSetup, startedAt: Date): void {
  const z: ManagedZone = {
    name,
    handle,
    setup,
    startedAt,
    state: 'running',
    haltedByUs: false,
    finished: false,
    done: Promise.resolve(),
    execs: new Set(),
    execStats: emptyStats(),
  };
  z.done = handle.ended
    .then((end) => onEnd(m, z, end))
    .catch((e: Error) => {
      z.finished = true;
      if (m.zones.get(name) === z) m.zones.delete(name);
      m.log(`zone ${name}: handling its end failed: ${e.message}`);
    });
  m.zones.set(name, z);
}

async function onEnd(m: ManagerState, z: ManagedZone, ended: ZoneEnd): Promise<void> {
  // A reboot(2) served by another supervisor (a process exec'd into the
  // zone, served by its caller) is known from the zone's reboot marker.
  const asked = takeRebootMarker(m.store, z.name);
  const end: ZoneEnd = !ended.reboot && asked ? { ...ended, reboot: asked, ...(asked === 'halt' ? { exitCode: 0 } : {}) } : ended;
  // A last look before the cgroup goes (the Docker API's oom event: a cap's kill that ended the zone).
  for (const f of m.hooks.ending) await f(z.name).catch((e: Error) => m.log(`zone ${z.name}: ending hook: ${e.message}`));
  const errors = await cleanupHost(m.opts, z.name, z.setup.cgroup ? { cgroupPath: z.setup.cgroup.path } : {});
  for (const e of errors) m.log(`zone ${z.name}: cleanup: ${e}`);
  const rec = m.store.readRuntime(z.name);
  if (rec && rec.pid === z.handle.keeperPid) m.store.removeRuntime(z.name);
  // A keeper killed by SIGKILL could not unlink its re-attach socket.
  rmSync(socketPath(m.store, z.name), { force: true });
  z.finished = true;
  if (m.zones.get(z.name) === z) {
    m.zones.delete(z.name);
    m.inputs.get(z.name)?.close();
    m.inputs.delete(z.name);
  }
  const ranMs = Date.now() - z.startedAt.getTime();
  m.lastExit.set(z.name, { ...end, at: new Date().toISOString(), haltedByUs: z.haltedByUs });
  for (const f of m.hooks.ended) f(z.name, end);
  m.log(`zone ${z.name}: stopped (exit ${end.exitCode}${end.signal ? `, ${end.signal}` : ''}${end.reboot ? `, reboot ${end.reboot}` : ''}${end.error ? `: ${end.error}` : ''})`);
  if (m.closed) return;
  let cfg: ZoneConfig;
  try {
    cfg = m.store.loadConfig(z.name);
  } catch {
    return; // destroyed, or a config that no longer parses: nothing to restart
  }
  if (ranMs >= RESTART_SERIES_RESET_MS) m.restarts.resetSeries(z.name);
  const n = m.restarts.inARowOf(z.name);
  const d = decideRestart(cfg.restartPolicy, end, { haltedByUs: z.haltedByUs, restartsInARow: n });
  if (d.limited) {
    // Left stopped, and its state says why (list: failed; inspect: lastExit.error).
    m.restarts.markFailed(z.name);
    m.lastExit.set(z.name, { ...m.lastExit.get(z.name)!, error: `${d.why}; \`lxzone boot\` starts it again` });
    setDesired(m.store, z.name, 'stopped', m.log); // a restarted daemon does not resume the storm
    m.log(`zone ${z.name}: not restarted: ${d.why}`);
  }
  if (!d.restart) return;
  // A reboot(2) RESTART that starts a series is what the zone asked for: at
  // once; after that, and after a crash: with a growing delay.
  const delay = restartDelayMs(n, { reboot: end.reboot === 'restart' });
  m.log(`zone ${z.name}: restarting in ${delay} ms (${d.why})`);
  m.restarts.setInARow(z.name, n + 1);
  m.restarts.schedule(z.name, delay, () => {
    m.serial(z.name, 'restart', () => m.bootLocked(z.name)).then(() => {
      for (const f of m.hooks.restarted) f(z.name);
    }).catch((e: Error) => {
      m.log(`zone ${z.name}: restart failed: ${e.message}`);
      m.lastExit.set(z.name, { exitCode: 125, error: `restart failed: ${e.message}`, at: new Date().toISOString(), haltedByUs: false });
    });
  });
}
