// At daemon start: the zones a previous daemon served. A zone whose keeper
// still runs is taken back through its re-attach socket (its notified
// syscalls waited meanwhile); for the others, what they left is cleaned
// (cgroup, veth, runtime record) and those their restart policy wants
// running are booted. Processes exec'd into zones are taken back too.
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { LxzoneError } from '../../errors.js';
import type { ZoneConfig } from '../config/types.js';
import { isAlive } from '../state/proc.js';
import { execRecordOf, recordedExecs } from './exec.js';
import { adoptExec } from './exec-adopt.js';
import { reattachHandle } from './handle.js';
import { cleanupHost, currentLease, memoryUsageFile, zoneCgroup, type HostSetup } from './host-setup.js';
import type { ManagerState, ZoneRuntime } from './managed-zone.js';
import { attachOptionsOf } from './plan.js';
import { adoptZone, onZoneEvent } from './zone-end.js';
import { desired, socketPath } from './zone-files.js';

export interface Recovered {
  reattached: string[];
  stopped: string[];
  booted: string[];
}

export async function recoverZones(m: ManagerState): Promise<Recovered> {
  const out: Recovered = { reattached: [], stopped: [], booted: [] };
  for (const name of m.store.list()) {
    await m.serial(name, 'recover', () => recoverZone(m, name, out)).catch((e: Error) => m.log(`zone ${name}: ${e.message}`));
  }
  // Processes exec'd into those zones wait on their keepers' sockets too.
  for (const [socket, name] of recordedExecs(m.store)) {
    try {
      adoptExec(m, name, socket);
      m.log(`zone ${name}: exec'd process re-attached (${socket})`);
    } catch (e) {
      m.log(`zone ${name}: cannot re-attach the exec'd process at ${socket} (${(e as Error).message}); its keeper stops it`);
      rmSync(execRecordOf(socket), { force: true });
      rmSync(socket, { force: true }); // a keeper killed by SIGKILL could not unlink it
    }
  }
  return out;
}

async function recoverZone(m: ManagerState, name: string, out: Recovered): Promise<void> {
  let rec: ZoneRuntime | undefined;
  try {
    rec = m.store.readRuntime(name) as ZoneRuntime | undefined;
  } catch (e) {
    m.log(`zone ${name}: ${(e as Error).message}; removed`);
    m.store.removeRuntime(name);
  }
  if (rec && isAlive(rec)) {
    try {
      await reattachZone(m, name, rec);
      out.reattached.push(name);
      return;
    } catch (e) {
      m.log(`zone ${name}: cannot re-attach (${(e as Error).message}); stopping it`);
      try {
        process.kill(rec.pid, 'SIGKILL');
      } catch {}
      await sleep(100);
    }
  }
  const wasRunning = rec !== undefined;
  if (rec) m.store.removeRuntime(name);
  rmSync(socketPath(m.store, name), { force: true });
  const errors = await cleanupHost(m.opts, name, rec?.cgroupPath ? { cgroupPath: rec.cgroupPath } : {});
  for (const e of errors) m.log(`zone ${name}: cleanup: ${e}`);
  if (wasRunning) {
    out.stopped.push(name);
    m.lastExit.set(name, { exitCode: 125, error: 'stopped while no daemon was serving it', at: new Date().toISOString(), haltedByUs: false });
  }
  let cfg: ZoneConfig;
  try {
    cfg = m.store.loadConfig(name);
  } catch (e) {
    m.log(`zone ${name}: ${(e as Error).message}`);
    return;
  }
  const policy = cfg.restartPolicy;
  const want = desired(m.store, name);
  const boot =
    (policy === 'always' && want !== undefined) ||
    (policy === 'unless-stopped' && want === 'running') ||
    (wasRunning && policy.startsWith('on-failure'));
  if (!boot) return;
  try {
    await m.bootLocked(name);
    out.booted.push(name);
  } catch (e) {
    m.log(`zone ${name}: boot at daemon start failed: ${(e as Error).message}`);
  }
}

async function reattachZone(m: ManagerState, name: string, rec: ZoneRuntime): Promise<void> {
  if (!rec.reattachSocket || !rec.attach || !rec.initPid) throw new LxzoneError('its runtime record has no re-attach socket');
  const cgroup = await zoneCgroup(m.opts, name, rec.cgroupPath);
  const attach = { ...rec.attach };
  const usageFile = memoryUsageFile(cgroup);
  if (usageFile) attach.memoryUsageFile = usageFile;
  const handle = reattachHandle(rec.reattachSocket, attachOptionsOf(attach), { keeperPid: rec.pid, initPid: rec.initPid }, (ev) =>
    onZoneEvent(m, name, ev),
  );
  const setup: HostSetup = { network: rec.network as HostSetup['network'], warnings: [], ...(cgroup ? { cgroup } : {}) };
  const lease = await currentLease(m.opts, name);
  if (lease && rec.network === 'zone') setup.lease = lease;
  adoptZone(m, name, handle, setup, new Date(rec.startedAt));
  m.log(`zone ${name}: re-attached (init pid ${rec.initPid})`);
}
