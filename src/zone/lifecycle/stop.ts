// Stopping a zone the daemon serves (halt, reboot, destroy, daemon exit with
// --halt-zones) and removing a stopped one (destroy).
import { existsSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { LxzoneError } from '../../errors.js';
import { releaseZoneIds } from '../ids.js';
import { isAlive, readProcStat } from '../state/proc.js';
import { cleanupHost } from './host-setup.js';
import type { ManagedZone, ManagerState } from './managed-zone.js';
import { SYSTEM_HALT_GRACE_MS, SYSTEM_STOP_SIGNAL } from './system-zone.js';
import { rebootMarker, socketPath } from './zone-files.js';

/**
 * SIGTERM to the zone's init (forwarded to the program by the reaper), up
 * to `graceMs` for it to end, then SIGKILL of init, which takes the whole
 * pid namespace with it; then whatever is left in the cgroup; then the keeper.
 */
export async function stopZone(m: ManagerState, z: ManagedZone, graceMs: number | undefined): Promise<void> {
  z.haltedByUs = true;
  z.state = 'halting';
  // The zone is stopped once its keeper has gone; z.done also covers its host cleanup (veths, nftables,
  // cgroup), which on a loaded host may outlast the waits below and is awaited at the end, not timed.
  let exited = false;
  void z.handle.ended.then(
    () => (exited = true),
    () => (exited = true),
  );
  const ended = () => z.finished || exited;
  const waitDone = (ms: number) => Promise.race([z.done, z.handle.ended.catch(() => undefined), sleep(ms)]);
  // A system zone's init shuts down through its own services (system-zone.ts).
  const system = isSystemZone(m, z.name);
  graceMs ??= system ? Math.max(SYSTEM_HALT_GRACE_MS, m.opts.haltTimeoutMs) : m.opts.haltTimeoutMs;
  if (graceMs > 0) {
    try {
      z.handle.signal(system ? SYSTEM_STOP_SIGNAL : 'SIGTERM');
    } catch {}
    await waitDone(graceMs);
  }
  if (!ended()) {
    m.log(`zone ${z.name}: still running after ${graceMs} ms; SIGKILL`);
    try {
      z.handle.signal('SIGKILL');
    } catch {}
    await waitDone(5000);
  }
  if (!ended()) {
    await z.setup.cgroup?.destroy().catch(() => undefined);
    const keeper = readProcStat(z.handle.keeperPid);
    if (keeper) {
      try {
        process.kill(z.handle.keeperPid, 'SIGKILL');
      } catch {}
    }
    await waitDone(5000);
  }
  if (!ended()) throw new LxzoneError(`zone ${z.name} did not stop (keeper pid ${z.handle.keeperPid})`, { code: 'ETIMEDOUT' });
  await z.done;
}

function isSystemZone(m: ManagerState, name: string): boolean {
  try {
    return m.store.loadConfig(name).system === true;
  } catch {
    return false; // destroyed or unreadable: stopped the plain way
  }
}

/** Removes a zone (the caller holds its queue): stopped first with `force`, else refused while it runs. */
export async function destroyLocked(m: ManagerState, name: string, o: { force?: boolean }): Promise<{ name: string; destroyed: true; warnings: string[] }> {
  const p = m.store.paths(name);
  if (!existsSync(p.zoneDir)) throw new LxzoneError(`zone ${name} does not exist`, { code: 'ENOENT' });
  const z = m.zones.get(name);
  const rec = (() => {
    try {
      return m.store.readRuntime(name);
    } catch {
      return undefined;
    }
  })();
  const unmanaged = !z && rec !== undefined && isAlive(rec);
  if ((z || unmanaged || m.booting.has(name)) && !o.force) {
    throw new LxzoneError(`zone ${name} is running; halt it first or destroy it with --force`, { code: 'EBUSY' });
  }
  m.restarts.cancel(name);
  if (z) await stopZone(m, z, 0);
  else if (unmanaged && rec) {
    try {
      process.kill(rec.pid, 'SIGKILL');
    } catch {}
  }
  const warnings = await cleanupHost(m.opts, name, { release: true, ...(rec?.cgroupPath ? { cgroupPath: rec.cgroupPath as string } : {}) });
  releaseZoneIds(m.store, name);
  rmSync(socketPath(m.store, name), { force: true });
  rmSync(rebootMarker(m.store, name), { force: true });
  m.store.remove(name);
  m.lastExit.delete(name);
  m.restarts.resetSeries(name);
  m.log(`zone ${name}: destroyed`);
  return { name, destroyed: true as const, warnings };
}
