// Booting a stored zone in the daemon: its host side first (cgroup, veth,
// mounted disk, /proc view), then the one route (planBoot → startZone), with
// the zone detached and a re-attach socket so that it outlives the daemon.
// The runtime record is written before the zone runs, so a daemon killed
// from there on finds it again. A boot that fails half-way leaves nothing.
import { closeSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { LxzoneError } from '../../errors.js';
import type { ZoneEvent } from '../events.js';
import { startProcView, procViewBinds } from '../procview/index.js';
import { startZone, type RunningZone } from '../run.js';
import { isAlive, processIdentity } from '../state/proc.js';
import type { RuntimeInput } from '../state/store.js';
import { startedHandle, type ZoneEnd } from './handle.js';
import { checkPrivileges, cleanupHost, memoryUsageFile, placeZone, prepareHost, type HostSetup } from './host-setup.js';
import { keeperStdio, zoneLogTargets } from './logs.js';
import type { ManagerState } from './managed-zone.js';
import { isRoot } from './options.js';
import { planBoot } from './plan.js';
import { systemZoneProcBinds } from './system-zone.js';
import { mountZoneDisk } from './zone-disk.js';
import { ZoneInput } from './zone-input.js';
import { adoptZone, onZoneEvent } from './zone-end.js';
import { checkedSocketPath, rebootMarker, takeRebootMarker } from './zone-files.js';

/** Boots the zone (the caller holds its queue); it is served by the manager once it runs. */
export async function bootLocked(m: ManagerState, name: string): Promise<void> {
  if (m.closed) throw new LxzoneError('the daemon is shutting down', { code: 'ESHUTDOWN' });
  const running = m.zones.get(name);
  if (running && !running.finished) throw new LxzoneError(`zone ${name} is already running (pid ${running.handle.initPid})`, { code: 'EBUSY' });
  const cfg = m.store.loadConfig(name);
  const stale = m.store.readRuntime(name);
  if (stale && isAlive(stale)) {
    throw new LxzoneError(`zone ${name} is already running (keeper pid ${stale.pid}, not served by this daemon)`, { code: 'EBUSY' });
  }
  if (stale) m.store.removeRuntime(name);
  checkPrivileges(cfg);
  const socket = checkedSocketPath(m.store, name);
  m.booting.add(name);
  let startedZone: RunningZone | undefined;
  let endedP: Promise<ZoneEnd> | undefined;
  let input: ZoneInput | undefined;
  try {
    // A zone found dead may have left its cgroup, veth or mounted disk: start clean.
    await cleanupHost(m.opts, name);
    const disk = await mountZoneDisk(m.store, cfg);
    const plan = planBoot(m.store, cfg, disk?.rootfs);
    takeRebootMarker(m.store, name); // a stale one would make this run's end a reboot
    plan.attach.rebootMarker = rebootMarker(m.store, name);
    for (const w of plan.warnings) m.log(`zone ${name}: ${w}`);
    const setup: HostSetup = await prepareHost(m.opts, cfg, plan.attach.idBase);
    const usageFile = memoryUsageFile(setup.cgroup);
    if (usageFile) plan.attach.memoryUsageFile = usageFile;
    const procBinds = [...(await zoneProcBinds(m, name)), ...(cfg.system ? systemZoneProcBinds(m.store.runtimeDir, name) : [])];
    // The keeper writes the zone's output to its log files (the zone has
    // pipes); its own stdin, stdout and stderr are /dev/null until then.
    // A zone made with stdin or a terminal reads the daemon's input channel.
    const stdio = keeperStdio();
    if (cfg.stdin || cfg.tty) {
      input = ZoneInput.open(m.store.runtimeDir, cfg.tty === true);
      stdio[0] = input.keeperFd;
    }
    let startedResolve!: () => void;
    const started = new Promise<void>((r) => (startedResolve = r));
    let zone: RunningZone;
    try {
      zone = startZone({
        ...plan.spec,
        ...plan.hosting,
        procBinds,
        stdio: 'fds',
        stdioFds: stdio,
        logFiles: zoneLogTargets(m.store, name, m.opts.logMaxBytes),
        ...(setup.cgroup ? { cgroupProcs: setup.cgroup.procsFiles() } : {}),
        detached: true,
        reattachSocket: socket,
        reattachTimeoutSeconds: m.opts.reattachTimeoutSeconds,
        ...(plan.attach.memoryLimit !== undefined ? { memoryLimit: plan.attach.memoryLimit } : {}),
        rebootMarker: plan.attach.rebootMarker,
        ...(usageFile ? { memoryUsageFile: usageFile } : {}),
        onCreated: (pid) => placeZone(m.opts, name, setup, pid),
        onEvent: (ev: ZoneEvent) => {
          if (ev.type === 'started') startedResolve();
          onZoneEvent(m, name, ev);
        },
      });
      startedZone = zone;
    } finally {
      for (const fd of new Set(stdio)) closeSync(fd); // the keeper has its own copies
      if (input) input.started(startedZone?.keeperPid ?? 0);
    }
    const waited = zone.wait().then(
      (r) => ({ exitCode: r.exitCode, ...(r.signal ? { signal: r.signal } : {}), ...(r.reboot ? { reboot: r.reboot } : {}) }) as ZoneEnd,
      (e: LxzoneError) => ({ exitCode: e.exitCode ?? 125, error: e.message }) as ZoneEnd,
    );
    endedP = waited;
    const keeper = processIdentity(zone.keeperPid);
    const record: RuntimeInput = {
      name,
      pid: zone.keeperPid,
      startTime: keeper.startTime,
      bootId: keeper.bootId,
      keeperPid: zone.keeperPid,
      reattachSocket: socket,
      attach: plan.attach,
      network: setup.network,
      daemonPid: process.pid,
      ...(setup.lease ? { ipv4: setup.lease.ipv4, ipv6: setup.lease.ipv6 } : {}),
      // cgroupPath: where lxzone stats/update (caps.ts) look for the cgroup.
      ...(setup.cgroup ? { cgroupPath: setup.cgroup.path } : {}),
    };
    // Written before the zone runs: a daemon killed from here on finds the zone again.
    m.store.writeRuntime(record);
    const first = await Promise.race([zone.initPid.then((pid) => ({ pid })), waited.then((end) => ({ end }))]);
    if ('end' in first) throw new LxzoneError(`cannot boot zone ${name}: ${first.end.error ?? `exited ${first.end.exitCode} during setup`}`, { exitCode: 1 });
    const handle = startedHandle(zone, first.pid, waited);
    const ran = await Promise.race([started.then(() => undefined), waited]);
    if (ran?.error) throw new LxzoneError(`cannot boot zone ${name}: ${ran.error}`, { exitCode: 1 });
    m.store.writeRuntime({ ...record, initPid: first.pid, startedAt: new Date().toISOString() });
    if (input) m.inputs.set(name, input);
    adoptZone(m, name, handle, setup, new Date());
    m.log(`zone ${name}: booted (init pid ${first.pid}${setup.lease ? `, ${setup.lease.ipv4}` : ''})`);
  } catch (e) {
    if (startedZone && endedP) {
      // Half-started: the zone must not outlive its failed boot.
      startedZone.kill('SIGKILL');
      await Promise.race([endedP, sleep(5000)]);
    }
    input?.close();
    m.store.removeRuntime(name);
    await cleanupHost(m.opts, name);
    throw e;
  } finally {
    m.booting.delete(name);
  }
}

/** The zone's own /proc view (LXCFS) when it can be had; a zone without it still boots. */
async function zoneProcBinds(m: ManagerState, name: string) {
  if (!isRoot() || process.env.LXZONE_PROCVIEW === '0') return [];
  try {
    const mountpoint = process.env.LXZONE_PROCVIEW_MOUNT || undefined;
    await startProcView(mountpoint ? { mountpoint } : {});
    return procViewBinds(mountpoint ? { mountpoint } : {});
  } catch (e) {
    m.log(`zone ${name}: no /proc view (LXCFS): ${(e as Error).message}`);
    return [];
  }
}
