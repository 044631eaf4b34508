// The daemon's side of `lxzone exec` (exec.ts is the caller's): what a caller
// needs to join a running zone, and serving the exec'd process once its
// caller hands it over, under the zone's policy and settings.
import { rmSync, writeFileSync } from 'node:fs';
import { LxzoneError } from '../../errors.js';
import { addStats } from '../stats.js';
import { execRecordOf, isExecSocket, type ExecTarget } from './exec.js';
import { reattachHandle, type ZoneHandle } from './handle.js';
import { memoryUsageFile } from './host-setup.js';
import type { ManagerState, ZoneRuntime } from './managed-zone.js';
import { attachOptionsOf } from './plan.js';
import { onZoneEvent } from './zone-end.js';

/**
 * Serves a process exec'd into a running zone, handed over by the caller
 * that started it (its keeper waits on `socket`, in this installation's
 * exec socket directory). Its notified syscalls are answered with the
 * zone's policy and settings, its counters join the zone's, and a reboot(2)
 * it makes is the zone's.
 */
export function adoptExec(m: ManagerState, name: string, socket: string): { name: string; adopted: true } {
  const z = m.zones.get(name);
  const rec = m.store.readRuntime(name) as ZoneRuntime | undefined;
  if (!z || z.state !== 'running' || !rec?.attach) throw new LxzoneError(`zone ${name} is not running`, { code: 'ESRCH' });
  if (!isExecSocket(m.store, socket)) throw new LxzoneError(`${socket}: not an exec socket of this installation`, { code: 'EINVAL' });
  const attach = { ...rec.attach };
  const usageFile = memoryUsageFile(z.setup.cgroup);
  if (usageFile) attach.memoryUsageFile = usageFile;
  let handle: ZoneHandle | undefined;
  handle = reattachHandle(socket, attachOptionsOf(attach), { keeperPid: 0, initPid: z.handle.initPid }, (ev) => {
    // The keeper names the zone it joined: one of another zone is not served under this one's policy.
    if (ev.type === 'ready' && ev.initPid !== z.handle.initPid) {
      m.log(`zone ${name}: exec socket ${socket} belongs to another zone (init ${ev.initPid}); refused`);
      handle?.signal('SIGKILL');
    }
    onZoneEvent(m, name, ev);
  });
  const h = handle;
  z.execs.add(h);
  const record = execRecordOf(socket);
  writeFileSync(record, `${name}\n`, { mode: 0o600 });
  void h.ended.then(() => {
    z.execStats = addStats(z.execStats, h.session.counters());
    z.execs.delete(h);
    rmSync(record, { force: true });
  });
  return { name, adopted: true };
}

/** What `exec` needs to join the zone: its init pid and policy. */
export function execTarget(m: ManagerState, name: string): ExecTarget {
  const config = m.store.loadConfig(name);
  const z = m.zones.get(name);
  const rec = m.store.readRuntime(name) as ZoneRuntime | undefined;
  if (!z || z.state !== 'running' || !rec) throw new LxzoneError(`zone ${name} is not running; boot it first`, { code: 'ESRCH' });
  const cgroupProcs = z.setup.cgroup?.procsFiles() ?? [];
  return { name, initPid: z.handle.initPid, keeperPid: z.handle.keeperPid, attach: rec.attach, config, cgroupProcs };
}
