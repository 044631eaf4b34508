// Changing the networks a zone is on (docker network connect / disconnect).
// The zone's config says which networks it is on (network.userNetwork, the
// first, and network.extraNetworks, the further ones), so every change is a
// config change; each address on a network it leaves goes back to that
// network's IPAM, and a lasting one is leased on each network it joins, at
// once, as at create. A running zone is changed live too: the daemon, as
// root, makes or deletes the veth pair of a further network and moves its
// new end into the zone's network namespace (an interface eth1, eth2, …:
// the first free name); leaving its first network deletes eth0 (and its way
// out), and a further network it is still on becomes its first one, the
// default route, NAT and published ports then going through it. Joining a first network while
// running (a zone with loopback only) needs a stop: eth0 and the zone's
// resolver are set up at boot.
import { LxzoneError } from '../../errors.js';
import type { NetworkConfig, ZoneConfig } from '../config/types.js';
import { parseZoneConfig } from '../config/validate.js';
import { Ipam, type BridgeConfig } from '../network/index.js';
import { ipJsonIn, ipBatchIn } from '../network/exec.js';
import { resolveBridge, vethNames } from '../network/addressing.js';
import { parsePublish, publishPorts } from '../network/publish.js';
import { allowOutbound, revokeOutbound } from '../network/outbound.js';
import { attachZone, detachZone } from '../network/veth.js';
import { attachExtra, bridgeOf, extraBridgesOf, extraLeaseFor, leaseFor, networkMode } from './host-setup.js';
import type { ManagerState } from './managed-zone.js';
import { ipamDir, isRoot } from './options.js';
import { ownsResolvConf, writeZoneResolvConf } from './plan.js';

/** The bridges a config puts the zone on, by bridge name: the first one first. */
function bridgesOf(m: ManagerState, cfg: ZoneConfig): Map<string, BridgeConfig> {
  const out = new Map<string, BridgeConfig>();
  if (networkMode(cfg) !== 'zone') return out;
  const first = bridgeOf(m.opts, cfg);
  out.set(first.name ?? '', first);
  for (const x of extraBridgesOf(m.opts, cfg, true)) out.set(x.bridge.name ?? '', x.bridge);
  return out;
}

/** The caller holds the zone's queue (ZoneManager.serial). */
export async function changeZoneNetworkLocked(m: ManagerState, name: string, network: NetworkConfig): Promise<void> {
  if (m.booting.has(name)) throw new LxzoneError(`zone ${name} is booting: change its networks once it runs`, { code: 'EBUSY' });
  const old = m.store.loadConfig(name);
  const next = parseZoneConfig({ ...old, network }, name);
  const before = (() => {
    try {
      return bridgesOf(m, old);
    } catch {
      return bridgesOf(m, { ...old, network: { ...old.network!, extraNetworks: [] } }); // a further network removed under it (cannot be, as its users keep it)
    }
  })();
  const after = bridgesOf(m, next); // refused here if a new network does not exist
  const running = m.zones.get(name);
  const pid = running?.handle.initPid;
  if (!isRoot()) {
    m.store.saveConfig(next);
    return;
  }
  // Leases first: a static address another zone holds refuses the change before anything moves.
  const oldFirst = networkMode(old) === 'zone' ? bridgeOf(m.opts, old) : undefined;
  const newFirst = networkMode(next) === 'zone' ? bridgeOf(m.opts, next) : undefined;
  if (newFirst && !before.has(newFirst.name ?? '')) await leaseFor(m.opts, next);
  const leases = [];
  for (const x of extraBridgesOf(m.opts, next, true)) if (!before.has(x.bridge.name ?? '')) leases.push(await extraLeaseFor(m.opts, name, x.net));
  m.store.saveConfig(next);

  if (running && pid !== undefined) {
    // Gone: the interfaces on networks it left (eth0's way out and published ports with it).
    for (const [brName, br] of before) {
      if (after.has(brName)) continue;
      const lease = await new Ipam({ stateDir: ipamDir(m.store), bridge: br }).get(name).catch(() => undefined);
      await detachZone(name, br, brName === (oldFirst?.name ?? '') ? lease?.ipv4 : undefined);
    }
    // New: one interface each, numbered on from the highest it has had (dockerd never re-uses a name while the container runs).
    const names = (await ipJsonIn<{ ifname: string }>(pid, 'link', 'show')).map((l) => l.ifname);
    const highest = Math.max(-1, running.lastIfIndex ?? -1, ...names.map((n) => (/^eth(\d+)$/.exec(n) ? Number(n.slice(3)) : -1)));
    let nextIndex = highest + 1;
    // A first network joined by a zone that had none: its interface with the default route, NAT and published ports, as at boot.
    if (newFirst && !oldFirst) {
      const lease = await new Ipam({ stateDir: ipamDir(m.store), bridge: newFirst }).get(name);
      if (lease) {
        const out = !newFirst.internal;
        const nat = out && next.network?.nat === true;
        const ports = out ? (next.network?.ports ?? []) : [];
        const link = await attachZone({ zoneName: name, pid, address: lease, bridge: newFirst, nat, defaultRoute: nat || ports.length > 0, ifname: `eth${nextIndex++}` });
        if (ports.length) await publishPorts({ hostIfname: link.hostIfname, bridge: link.bridge, ipv4: link.ipv4, ports: ports.map(parsePublish), lockDir: ipamDir(m.store), zoneName: name });
      }
    }
    for (const x of leases) await attachExtra(name, pid, { ...x, ifname: `eth${nextIndex++}` });
    running.lastIfIndex = nextIndex - 1;
    // The zone's own resolv.conf for its networks now (written in place: the zone sees it at once).
    writeZoneResolvConf(m.store, next, ownsResolvConf(old) || ownsResolvConf(next));
    // A further network became the first: the default route and NAT go through it now.
    if (newFirst && oldFirst && newFirst.name !== oldFirst.name && before.has(newFirst.name ?? '')) {
      const lease = await new Ipam({ stateDir: ipamDir(m.store), bridge: newFirst }).get(name);
      if (lease && !newFirst.internal && (next.network?.nat || next.network?.ports?.length)) {
        await ipBatchIn(pid, [`route replace default via ${lease.gateway4}`, `route replace default via ${lease.gateway6}`]);
        if (next.network?.nat) await allowOutbound(newFirst, lease.ipv4);
        else await revokeOutbound(newFirst, lease.ipv4);
        // Its published ports went with its old first interface: they lead to this one now.
        if (next.network?.ports?.length) {
          const br = resolveBridge(newFirst);
          await publishPorts({ hostIfname: vethNames(br.name, name).host, bridge: br.name, ipv4: lease.ipv4, ports: next.network.ports.map(parsePublish), lockDir: ipamDir(m.store), zoneName: name });
        }
      }
    }
  }
  // Addresses on networks it left go back (after their interfaces: the lease named the NAT element).
  for (const [brName, br] of before) {
    if (!after.has(brName)) await new Ipam({ stateDir: ipamDir(m.store), bridge: br }).release(name);
  }
}
