// What the daemon reports of its zones (list, inspect, stats): read from the
// zones it serves, its restart schedule, the state directory and the IPAM.
// Nothing here changes a zone.
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { diskUsage } from '../cgroups/index.js';
import { LxzoneError } from '../../errors.js';
import type { ZoneConfig } from '../config/types.js';
import { ImageStore } from '../image/store/images.js';
import { zoneImageView } from '../image/store/zone-image.js';
import { notificationMode } from '../notification-mode.js';
import { isAlive } from '../state/proc.js';
import { usageOver } from './caps.js';
import { currentLease, networkMode } from './host-setup.js';
import { logFiles } from './logs.js';
import { zoneCounters, type ManagerState } from './managed-zone.js';
import { isRoot } from './options.js';
import type { ZoneDetails, ZoneInfo, ZoneState, ZoneStatsResult } from './types.js';

function zoneState(m: ManagerState, name: string): ZoneState {
  const z = m.zones.get(name);
  if (z) return z.state;
  if (m.booting.has(name)) return 'booting';
  if (m.restarts.isPending(name)) return 'restarting';
  try {
    const rec = m.store.readRuntime(name);
    if (rec && isAlive(rec)) return 'running';
  } catch {}
  return m.restarts.isFailed(name) ? 'failed' : 'stopped';
}

export async function zoneInfo(m: ManagerState, name: string): Promise<ZoneInfo> {
  const state = zoneState(m, name);
  const info: ZoneInfo = { name, state };
  // Read with the state, before any await: the restart may happen meanwhile.
  const next = m.restarts.nextAt(name);
  if (next) info.nextRestartAt = next.toISOString();
  let cfg: ZoneConfig | undefined;
  try {
    cfg = m.store.loadConfig(name);
    info.restartPolicy = cfg.restartPolicy;
    info.network = networkMode(cfg);
    info.image = imageOf(cfg);
  } catch (e) {
    info.error = (e as Error).message;
    info.state = state === 'stopped' ? 'broken' : state;
  }
  const z = m.zones.get(name);
  if (z) {
    info.pid = z.handle.initPid;
    info.keeperPid = z.handle.keeperPid;
    info.startedAt = z.startedAt.toISOString();
    info.uptimeSeconds = Math.floor((Date.now() - z.startedAt.getTime()) / 1000);
    const u = await z.setup.cgroup?.usage().catch(() => undefined);
    if (u) info.memory = { current: u.memory.current, max: u.memory.max };
  }
  const lease = await currentLease(m.opts, name);
  if (lease) {
    info.ipv4 = lease.ipv4;
    info.ipv6 = lease.ipv6;
  }
  const n = m.restarts.inARowOf(name);
  if (n) info.restarts = n;
  const last = m.lastExit.get(name);
  if (last) info.lastExit = last;
  return info;
}

export async function listZones(m: ManagerState): Promise<ZoneInfo[]> {
  const names = new Set([...m.store.list(), ...m.zones.keys()]);
  return Promise.all([...names].sort().map((n) => zoneInfo(m, n)));
}

export async function inspectZone(m: ManagerState, name: string): Promise<ZoneDetails> {
  const p = m.store.paths(name);
  if (!existsSync(p.zoneDir)) throw new LxzoneError(`zone ${name} does not exist`, { code: 'ENOENT' });
  const info = await zoneInfo(m, name);
  const details: ZoneDetails = { ...info, paths: { zone: p.zoneDir, config: p.configFile, logs: logFiles(m.store, name) } };
  try {
    details.config = m.store.loadConfig(name);
  } catch {}
  try {
    const rec = m.store.readRuntime(name);
    if (rec) details.runtime = rec;
  } catch {}
  const lease = await currentLease(m.opts, name);
  if (lease) details.address = lease;
  const rootfs = details.config?.rootfs;
  if (rootfs?.type === 'store') {
    const view = zoneImageView(new ImageStore({ stateDir: m.store.stateDir, runtimeDir: m.store.runtimeDir }), rootfs, isRoot() ? join(p.diskMount, 'volumes') : join(p.zoneDir, 'volumes'), lease?.ipv4);
    if (view) details.storeImage = view;
  }
  const z = m.zones.get(name);
  const cg = z?.setup.cgroup;
  if (cg) {
    details.cgroup = { version: cg.version, path: cg.path };
    details.usage = await cg.usage().catch(() => undefined);
  }
  if (z) details.syscalls = zoneCounters(z);
  details.unsupportedEvents = m.unsupported.of(name);
  try {
    details.notification = notificationMode();
  } catch (err) {
    m.log(`inspect ${name}: ${(err as Error).message}`);
  }
  return details;
}

/** A running zone's caps, usage (CPU over a short sample) and notified syscalls. */
export async function zoneStats(m: ManagerState, name: string, o: { sampleMs?: number } = {}): Promise<ZoneStatsResult> {
  const z = m.zones.get(name);
  if (!z) {
    m.store.loadConfig(name);
    throw new LxzoneError(`zone ${name} is not running`, { code: 'ESRCH' });
  }
  const cg = z.setup.cgroup;
  const cfg = m.store.loadConfig(name);
  const out: ZoneStatsResult = {
    name,
    uptimeSeconds: Math.round((Date.now() - z.startedAt.getTime()) / 1000),
    caps: cfg.resources ?? {},
    syscalls: zoneCounters(z),
    unsupportedEvents: m.unsupported.of(name),
  };
  if (cg) {
    const { usage, percent } = await usageOver(cg, o.sampleMs ?? 250);
    out.usage = usage;
    out.cpuPercent = percent;
  } else {
    out.note = isRoot() ? 'the zone has no cgroup' : 'rootless zone: no cgroup, no usage figures';
  }
  // A disk-capped zone's root is its own filesystem, mounted while it runs (another device than its directory's).
  if (cfg.resources?.diskBytes) {
    const p = m.store.paths(name);
    const mounted = await Promise.all([stat(p.diskMount), stat(p.zoneDir)]).then(([a, b]) => a.dev !== b.dev, () => false);
    if (mounted) out.disk = await diskUsage(p.diskMount).catch(() => undefined);
  }
  return out;
}

/** What a zone runs on, in a word: its image archive, its root directory, or the host's root. */
function imageOf(cfg: ZoneConfig): string {
  const r = cfg.rootfs;
  if (r.type === 'image') return r.ref ? `${r.path} (${r.ref})` : r.path;
  if (r.type === 'dir') return r.path;
  if (r.type === 'store') return r.ref;
  return r.copyOnWrite ? 'host (copy-on-write)' : 'host';
}
