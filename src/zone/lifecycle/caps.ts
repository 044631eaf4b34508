// A zone's caps changed and read from its cgroup and state directory directly
// (`lxzone update`, `lxzone stats`), so they work whether or not a daemon
// serves the zone. A running zone gets new caps at once (its cgroup first:
// if the kernel refuses, e.g. a memory cap below current usage, nothing
// changes); the configuration keeps them for the next boot. An image zone's
// disk grows at once, online if mounted (never shrinks); the /tmp and /run
// sizes follow at the next boot.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LxzoneError } from '../../errors.js';
import { daemonCall } from '../../daemon/client.js';
import { limitsOf, validateLimits, type ResourceRequest, type ZoneLimits } from '../cgroups/limits.js';
import { openZoneCgroup, type ZoneCgroup, type ZoneUsage } from '../cgroups/index.js';
import type { ResourcesConfig } from '../config/types.js';
import { Ipam, type BridgeConfig } from '../network/index.js';
import { NetworkStore } from '../network/networks.js';
import { acquireLock, type RuntimeRecord, type ZoneStore } from '../state/index.js';
import { checkPrivileges } from './host-setup.js';
import { growZoneDisk, type DiskGrowth } from './zone-disk.js';

/** The zone's cgroup: the path recorded at boot, else the default place, else the cgroup of its init. */
export async function runningZoneCgroup(name: string, rec: RuntimeRecord): Promise<ZoneCgroup> {
  const recorded = typeof rec.cgroupPath === 'string' ? rec.cgroupPath : undefined;
  const cg =
    (recorded !== undefined ? await openZoneCgroup(name, { path: recorded }) : undefined) ??
    (await openZoneCgroup(name)) ??
    (await openZoneCgroup(name, { pid: rec.pid }).catch(() => undefined));
  if (!cg || (recorded === undefined && !cg.path.endsWith(`/${name}`))) {
    throw new LxzoneError(`zone ${name} is running but has no cgroup (booted without resource control?)`, { code: 'ENOENT' });
  }
  return cg;
}

/** A request (null: remove the cap) over the configured resources -> (new resources, the limits to apply to a running zone). */
export function resourceChanges(request: ResourceRequest, current: ResourcesConfig = {}): { resources: ResourcesConfig; limits: ZoneLimits } {
  if (Object.keys(request).length === 0) {
    throw new LxzoneError('nothing to update: give --memory, --memory-swap, --cpus, --cpu-shares, --pids-limit or --disk', { exitCode: 2 });
  }
  if (request.diskBytes === null) {
    throw new LxzoneError("option --disk: a zone's disk can grow, not be removed", { code: 'EINVAL', exitCode: 2 });
  }
  const limits = limitsOf(request);
  // A new memory cap keeps the configured swap allowance.
  if (limits.memory !== undefined && limits.swap === undefined && current.swapBytes !== undefined) limits.swap = current.swapBytes;
  const resources: ResourcesConfig = { ...current };
  for (const [k, v] of Object.entries(request) as [keyof ResourcesConfig, number | null | undefined][]) {
    if (v === undefined) continue;
    if (v === null) delete resources[k];
    else resources[k] = v;
  }
  return { resources, limits };
}

export interface CapsUpdate {
  zone: string;
  running: boolean;
  resources: ResourcesConfig;
  /** How --disk took effect on the zone's disk (absent without --disk). */
  disk?: DiskGrowth;
  /** What the zone's user is told about it: when `df` in the zone shows the new size. */
  note?: string;
}

/** When the zone sees its new disk size, said plainly. */
function diskNote(name: string, bytes: number, how: DiskGrowth): string {
  const size = `${bytes} bytes`;
  switch (how) {
    case 'online':
      return `zone ${name}: its disk grew online to ${size}; df in the zone shows it now`;
    case 'offline':
      return `zone ${name}: its disk grew to ${size}; the zone sees it at its next boot`;
    case 'next-boot':
      return `zone ${name}: its disk grows to ${size} at its next boot (it cannot grow while mounted: that needs CAP_SYS_RESOURCE, which lxzone does not have here, or a growth past the 128x its filesystem reserved for online resizing)`;
    case 'unchanged':
      return `zone ${name}: its disk is already ${size}`;
    case 'not-yet':
      return `zone ${name}: its disk is made with ${size} at its next boot`;
    case 'no-disk':
      return `zone ${name}: its root is not on a zone disk; the new size caps its /tmp and /run from its next boot`;
  }
}

/**
 * Changes the zone's caps: the one path, for `lxzone update` (updateZoneCaps)
 * and the daemon's update verb (the API's updateZone, the portal). The caller
 * holds the zone's lock; a daemon serving the zone is told afterwards.
 */
export async function changeZoneCaps(store: ZoneStore, name: string, request: ResourceRequest): Promise<CapsUpdate> {
  const cfg = store.loadConfig(name);
  const { resources, limits } = resourceChanges(request, cfg.resources);
  validateLimits(limits);
  // What a rootless zone cannot have (cgroup caps) is refused as at create.
  checkPrivileges({ ...cfg, resources });
  // The disk first: a smaller size is refused there, before anything changed.
  const grown = request.diskBytes !== undefined ? await growZoneDisk(store, { ...cfg, resources }) : undefined;
  const rec = store.readRuntime(name);
  // A halted zone's disk still mounted (its unmount at halt found it busy) grew online, but no zone sees it before its next boot.
  const disk = grown === 'online' && !rec ? 'offline' : grown;
  if (rec) await (await runningZoneCgroup(name, rec)).update(limits);
  const saved = store.saveConfig({ ...cfg, resources });
  const out: CapsUpdate = { zone: name, running: rec !== undefined, resources: saved.resources ?? {} };
  if (disk) {
    out.disk = disk;
    out.note = diskNote(name, request.diskBytes!, disk);
  }
  return out;
}

/** Changes the zone's caps under its lock; a daemon serving it then brings its sysinfo(2) view in line. */
export async function updateZoneCaps(store: ZoneStore, name: string, request: ResourceRequest): Promise<CapsUpdate> {
  store.loadConfig(name); // a zone that does not exist says so, before any lock is taken
  const lock = await acquireLock(store.paths(name).lockFile, name, { purpose: 'update' });
  let out: CapsUpdate;
  try {
    out = await changeZoneCaps(store, name, request);
  } finally {
    lock.release();
  }
  // After the lock: the daemon takes it too. No daemon: nothing to bring in line.
  await daemonCall('refresh', { name }, { store, start: false }).catch(() => undefined);
  return out;
}

/** The cgroup's usage after `intervalMs`, and its CPU use over that time in percent of one CPU (one decimal). */
export async function usageOver(cg: ZoneCgroup, intervalMs: number): Promise<{ usage: ZoneUsage; percent: number }> {
  const first = await cg.usage();
  const t0 = process.hrtime.bigint();
  await sleep(intervalMs);
  const usage = await cg.usage();
  const wallUsec = Number(process.hrtime.bigint() - t0) / 1000;
  return { usage, percent: Math.round(((usage.cpu.usageUsec - first.cpu.usageUsec) / wallUsec) * 1000) / 10 };
}

export interface UsageSample {
  zone: string;
  memory: ZoneUsage['memory'];
  cpu: ZoneUsage['cpu'] & { percent: number | null };
  pids: ZoneUsage['pids'];
  ipv4: string | null;
  ipv6: string | null;
}

/** Live usage of a running zone against its caps, CPU over `intervalMs` (0: no percentage), and its addresses. */
export async function sampleZoneUsage(store: ZoneStore, name: string, intervalMs: number): Promise<UsageSample> {
  const rec = store.readRuntime(name);
  if (!rec) {
    if (!store.exists(name)) throw new LxzoneError(`zone ${name} does not exist`, { code: 'ENOENT' });
    throw new LxzoneError(`zone ${name} is not running`, { code: 'ESRCH' });
  }
  const cg = await runningZoneCgroup(name, rec);
  const { usage: u, percent } = intervalMs > 0 ? await usageOver(cg, intervalMs) : { usage: await cg.usage(), percent: null };
  const lease = await new Ipam({ stateDir: join(store.stateDir, 'network'), bridge: userBridge(store, name) }).get(name).catch(() => undefined);
  return { zone: name, memory: u.memory, cpu: { ...u.cpu, percent }, pids: u.pids, ipv4: lease?.ipv4 ?? null, ipv6: lease?.ipv6 ?? null };
}

/** The bridge of the zone's user-defined network, if it is on one (its lease is in that bridge's IPAM store). */
function userBridge(store: ZoneStore, name: string): BridgeConfig | undefined {
  try {
    const net = store.loadConfig(name).network?.userNetwork;
    if (net === undefined) return undefined;
    const nets = new NetworkStore(join(store.stateDir, 'network'));
    return nets.bridgeConfig(nets.need(net));
  } catch {
    return undefined; // no readable config: the default bridge's store is asked
  }
}
