// What a booted zone holds on the host besides its processes: a cgroup (caps
// and usage) and, with network mode "zone", a veth pair on the bridge with the
// zone's leased address. Both are placed while the zone waits in onCreated,
// before its binary runs; both are removed when the zone stops. The address
// lease is kept until the zone is destroyed.
import { join } from 'node:path';
import { LxzoneError } from '../../errors.js';
import { createZoneCgroup, defaultParent, detectCgroups, hasCaps as hasLimits, limitsOf, openZoneCgroup, type ZoneCgroup, type ZoneLimits } from '../cgroups/index.js';
import { delegateCgroup, placeInCgroup, removeDelegatedCgroup } from '../cgroups/delegate.js';
import type { ExtraNetwork, ResourcesConfig, ZoneConfig } from '../config/types.js';
import { attachZone, detachZone, Ipam, parsePublish, publishPorts, type BridgeConfig, type Lease } from '../network/index.js';
import { NetworkStore } from '../network/networks.js';
import { ipamDir, isRoot, type LifecycleOptions } from './options.js';
import { unmountZoneDisk } from './zone-disk.js';
import { removeSystemZoneFiles } from './system-zone.js';

export type NetworkMode = 'none' | 'loopback' | 'zone';

/** The zone's network mode: as configured, else "zone" as root and "loopback" rootless. */
export function networkMode(cfg: ZoneConfig): NetworkMode {
  return cfg.network?.mode ?? (isRoot() ? 'zone' : 'loopback');
}

const hasCaps = (r: ResourcesConfig | undefined): boolean => r !== undefined && hasLimits(limitsOf(r));

/**
 * Refuse, with the reason, what an unprivileged user cannot have: a bridge
 * and veth pairs need CAP_NET_ADMIN on the host, cgroup caps need a cgroup
 * the host delegated (lxzone does not look for one).
 */
export function checkPrivileges(cfg: ZoneConfig): void {
  if (isRoot()) return;
  const uid = process.getuid?.() ?? -1;
  if (cfg.system) {
    throw new LxzoneError(
      `zone ${cfg.name}: a system zone (its own init as pid 1) needs root: its init needs a cgroup tree of its own, which lxzone delegates only as root (uid ${uid})`,
      { code: 'EPERM', where: 'system' },
    );
  }
  if (networkMode(cfg) === 'zone') {
    throw new LxzoneError(
      `zone ${cfg.name}: network mode "zone" needs root (a host bridge and veth pairs); rootless zones (uid ${uid}) can use "loopback" or "none"`,
      { code: 'EPERM', where: 'network.mode' },
    );
  }
  if (hasCaps(cfg.resources)) {
    throw new LxzoneError(
      `zone ${cfg.name}: resource caps need cgroups, which lxzone only manages as root; remove "resources" for a rootless zone (uid ${uid})`,
      { code: 'EPERM', where: 'resources' },
    );
  }
}

/** The bridge the zone plugs into: its user-defined network's (networks.ts), else the host's default one. */
export function bridgeOf(opts: LifecycleOptions, cfg: ZoneConfig | undefined): BridgeConfig {
  const net = cfg?.network?.userNetwork;
  if (net === undefined) return opts.bridge;
  const store = new NetworkStore(ipamDir(opts.store));
  return store.bridgeConfig(store.need(net));
}

/** The zone's further networks (network.extraNetworks) with their bridges; a network that no longer exists is left out, or with `strict` refused. */
export function extraBridgesOf(opts: LifecycleOptions, cfg: ZoneConfig | undefined, strict = false): { net: ExtraNetwork; bridge: BridgeConfig }[] {
  if (cfg?.network?.mode !== 'zone') return [];
  const store = new NetworkStore(ipamDir(opts.store));
  const out: { net: ExtraNetwork; bridge: BridgeConfig }[] = [];
  for (const net of cfg.network.extraNetworks ?? []) {
    if (net.name === DEFAULT_BRIDGE_NETWORK) {
      out.push({ net, bridge: opts.bridge });
      continue;
    }
    const rec = strict ? store.need(net.name) : store.get(net.name);
    if (rec) out.push({ net, bridge: store.bridgeConfig(rec) });
  }
  return out;
}

/** A further network named "bridge" is the host's default bridge (docker network connect bridge; no user network has that name). */
export const DEFAULT_BRIDGE_NETWORK = 'bridge';

/** The bridge of a further network: a user-defined one's, or the default bridge. */
function extraBridge(opts: LifecycleOptions, net: ExtraNetwork): BridgeConfig {
  if (net.name === DEFAULT_BRIDGE_NETWORK) return opts.bridge;
  const store = new NetworkStore(ipamDir(opts.store));
  return store.bridgeConfig(store.need(net.name));
}

/** The zone's lease on one of its further networks (allocated on first use; a static address is honoured or refused). */
export async function extraLeaseFor(opts: LifecycleOptions, name: string, net: ExtraNetwork): Promise<{ bridge: BridgeConfig; lease: Lease }> {
  const bridge = extraBridge(opts, net);
  const lease = await new Ipam({ stateDir: ipamDir(opts.store), bridge }).allocate(name, net.address?.split('/')[0]);
  return { bridge, lease };
}

/** Another interface of a running zone (eth1, …) on a further network: no default route, no NAT (those go with eth0). */
export async function attachExtra(name: string, initPid: number, x: { bridge: BridgeConfig; lease: Lease; ifname: string }): Promise<void> {
  await attachZone({ zoneName: name, pid: initPid, address: x.lease, bridge: x.bridge, ifname: x.ifname });
}

/** The bridge of a zone by name, for cleanup and queries: the default one when its config or network is unreadable. */
export function bridgeOfZone(opts: LifecycleOptions, name: string): BridgeConfig {
  try {
    return bridgeOf(opts, opts.store.loadConfig(name));
  } catch {
    return opts.bridge; // no config (a half-made zone) or a network removed under it: its lease, if any, is on the default bridge
  }
}

/** The zone's address from the IPAM (allocated on first use; a static address is honoured or refused). */
export async function leaseFor(opts: LifecycleOptions, cfg: ZoneConfig): Promise<Lease> {
  const ipam = new Ipam({ stateDir: ipamDir(opts.store), bridge: bridgeOf(opts, cfg) });
  const requested = cfg.network?.address?.split('/')[0];
  return ipam.allocate(cfg.name, requested);
}

export async function currentLease(opts: LifecycleOptions, name: string): Promise<Lease | undefined> {
  if (!isRoot()) return undefined;
  return new Ipam({ stateDir: ipamDir(opts.store), bridge: bridgeOfZone(opts, name) }).get(name).catch(() => undefined);
}

export interface HostSetup {
  network: NetworkMode;
  /** The zone's address goes out through NAT (network.nat). */
  nat?: boolean;
  /** Host ports forwarded to the zone (network.ports). */
  ports?: string[];
  cgroup?: ZoneCgroup;
  /** A system zone's cgroup2 directory, owned by the zone's root (cgroups/delegate.ts). */
  delegated?: string;
  lease?: Lease;
  /** The bridge of the zone's network (bridgeOf). */
  bridge?: BridgeConfig;
  /** Its further networks' interfaces (network.extraNetworks). */
  extra?: { bridge: BridgeConfig; lease: Lease; ifname: string }[];
  warnings: string[];
}

function cgroupOpts(opts: LifecycleOptions) {
  return opts.cgroupParent ? { parent: opts.cgroupParent } : {};
}

/**
 * Before the zone starts: its cgroup with its caps, a system zone's delegated
 * cgroup2 tree (owned by `zoneRootId`, the zone's root as a host id), its
 * address. Undone by cleanupHost on failure.
 */
export async function prepareHost(opts: LifecycleOptions, cfg: ZoneConfig, zoneRootId?: number): Promise<HostSetup> {
  checkPrivileges(cfg);
  const setup: HostSetup = { network: networkMode(cfg), warnings: [] };
  if (!isRoot()) {
    setup.warnings.push('rootless: no cgroup (no caps, no usage figures) and no bridge network');
    return setup;
  }
  try {
    try {
      detectCgroups();
    } catch (e) {
      if (hasCaps(cfg.resources)) throw new LxzoneError(`zone ${cfg.name}: resource caps cannot be applied: ${(e as Error).message}`, { code: 'ENOTSUP', where: 'resources' });
      setup.warnings.push(`no cgroup for the zone: ${(e as Error).message}`);
    }
    if (setup.warnings.length === 0) setup.cgroup = await createZoneCgroup(cfg.name, limitsOf(cfg.resources), cgroupOpts(opts));
    if (cfg.system) {
      if (!setup.cgroup) throw new LxzoneError(`cannot boot system zone ${cfg.name}: ${setup.warnings.join('; ')}`, { code: 'ENOTSUP' });
      setup.delegated = await delegateCgroup(cfg.name, setup.cgroup.path, zoneRootId ?? 0);
    }
    if (setup.network === 'zone') {
      setup.bridge = bridgeOf(opts, cfg);
      setup.lease = await leaseFor(opts, cfg);
      if (setup.bridge.internal) {
        // Nothing of an internal network reaches outside it: no NAT, no default route, nothing published.
        if (cfg.network?.ports?.length) setup.warnings.push(`zone ${cfg.name}: its network ${cfg.network.userNetwork} is internal: ports ${cfg.network.ports.join(', ')} are not published`);
      } else {
        if (cfg.network?.nat) setup.nat = true;
        if (cfg.network?.ports?.length) setup.ports = cfg.network.ports;
      }
      setup.extra = [];
      for (const [i, net] of (cfg.network?.extraNetworks ?? []).entries()) setup.extra.push({ ...(await extraLeaseFor(opts, cfg.name, net)), ifname: `eth${i + 1}` });
    }
  } catch (e) {
    await setup.cgroup?.destroy().catch(() => undefined);
    throw e;
  }
  return setup;
}

/**
 * In onCreated: the zone's init (a host pid, not yet running the binary)
 * joins its cgroup (the keeper placed it already through cgroupProcs, and
 * joins it too while it serves the zone without a daemon: a no-op here)
 * and gets eth0.
 */
export async function placeZone(opts: LifecycleOptions, name: string, setup: HostSetup, initPid: number): Promise<void> {
  if (setup.cgroup) await setup.cgroup.addProcess(initPid);
  // On a unified host the same directory (a no-op); on a hybrid one, the cgroup2 tree too.
  if (setup.delegated) placeInCgroup(setup.delegated, initPid);
  if (!setup.lease) return;
  const link = await attachZone({
    zoneName: name,
    pid: initPid,
    address: setup.lease,
    bridge: setup.bridge ?? opts.bridge,
    nat: setup.nat === true,
    // Answers to a published port's clients leave through the gateway.
    defaultRoute: setup.nat === true || (setup.ports?.length ?? 0) > 0,
  });
  if (setup.ports?.length) {
    await publishPorts({ hostIfname: link.hostIfname, bridge: link.bridge, ipv4: link.ipv4, ports: setup.ports.map(parsePublish), lockDir: ipamDir(opts.store), zoneName: name });
  }
  for (const x of setup.extra ?? []) await attachExtra(name, initPid, x);
}

/** The file sysinfo(2) reads the zone's memory use from. */
export function memoryUsageFile(cg: ZoneCgroup | undefined): string | undefined {
  if (!cg) return undefined;
  if (cg.version === 2) return join(cg.dirs.unified ?? Object.values(cg.dirs)[0]!, 'memory.current');
  return cg.dirs.memory ? join(cg.dirs.memory, 'memory.usage_in_bytes') : undefined;
}

/** The zone's existing cgroup (re-attach after a daemon restart, stats, update). */
export async function zoneCgroup(opts: LifecycleOptions, name: string, path?: string): Promise<ZoneCgroup | undefined> {
  if (!isRoot()) return undefined;
  try {
    return await openZoneCgroup(name, path !== undefined ? { path } : cgroupOpts(opts));
  } catch {
    return undefined;
  }
}

/**
 * After the zone stopped (or was found dead): kill what is left in its
 * cgroup (the one recorded at boot, and the default one) and remove it, remove its veth pair, unmount its disk. With `release`, the address
 * goes back to the IPAM (destroy). Every step runs even if one fails; the
 * errors are returned for the caller to report.
 */
export async function cleanupHost(opts: LifecycleOptions, name: string, o: { release?: boolean; cgroupPath?: string } = {}): Promise<string[]> {
  const errors: string[] = [];
  if (!isRoot()) return errors;
  const step = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (e) {
      errors.push(`${what}: ${(e as Error).message}`);
    }
  };
  // A system zone's init left its own cgroups under the zone's (v2: they keep
  // the zone's cgroup from being removed; hybrid v1: a tree of their own).
  const host = (() => {
    try {
      return detectCgroups();
    } catch {
      return undefined; // no cgroups at all: nothing was made
    }
  })();
  for (const rel of new Set([o.cgroupPath, host ? join(opts.cgroupParent ?? defaultParent(host), name) : undefined])) {
    if (rel !== undefined && host) await step('delegated cgroup', () => removeDelegatedCgroup(rel, { keepTop: host.version === 2 }));
  }
  // The path recorded at boot first (the daemon that booted it may have lived in another cgroup), then the default place.
  if (o.cgroupPath !== undefined) await step('cgroup', async () => (await openZoneCgroup(name, { path: o.cgroupPath }))?.destroy());
  await step('cgroup', async () => (await openZoneCgroup(name, cgroupOpts(opts)))?.destroy());
  // The lease names the address whose way out (NAT) goes with the link.
  const lease = await currentLease(opts, name);
  const bridge = bridgeOfZone(opts, name);
  await step('veth', () => detachZone(name, bridge, lease?.ipv4));
  const extra = (() => {
    try {
      return extraBridgesOf(opts, opts.store.loadConfig(name));
    } catch {
      return []; // no config: no further networks known
    }
  })();
  for (const x of extra) await step(`veth on ${x.net.name}`, () => detachZone(name, x.bridge));
  await step('boot id', async () => removeSystemZoneFiles(opts.store.runtimeDir, name));
  await step('disk', () => unmountZoneDisk(opts.store, name));
  if (o.release) await step('address', () => new Ipam({ stateDir: ipamDir(opts.store), bridge }).release(name));
  for (const x of o.release ? extra : []) await step(`address on ${x.net.name}`, () => new Ipam({ stateDir: ipamDir(opts.store), bridge: x.bridge }).release(name));
  return errors;
}
