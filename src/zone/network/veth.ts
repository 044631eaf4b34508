// A zone's link to the bridge: a veth pair whose host end ("lxz…") is a
// bridge port and whose other end becomes eth0 in the network namespace of the
// zone's init (a host pid). Names, MAC and addresses derive from the zone name,
// so a rebooted zone gets an identical interface.
import { LxzoneError } from '../../errors.js';
import { checkZoneName, DEFAULT_BRIDGE, vethAlias, vethNames, zoneMac, type BridgeConfig } from './addressing.js';
import { ensureBridge, linkInfo } from './bridge.js';
import { ip, ipBatch, ipBatchIn, isNotFound } from './exec.js';
import { guardPort, unguardPort } from './guard.js';
import type { Lease } from './ipam.js';
import { allowOutbound, revokeOutbound } from './outbound.js';
import { unpublishPorts } from './publish.js';

export interface AttachOptions {
  zoneName: string;
  /** Host pid of a process in the zone's network namespace (the zone's init). */
  pid: number;
  /** The zone's addresses, from Ipam.allocate(). */
  address: Lease;
  bridge?: BridgeConfig;
  /** Add default routes via the bridge's addresses (no NAT is set up: the host must forward if outside access is wanted). */
  defaultRoute?: boolean;
  /** Let the zone's IPv4 address out through NAT (outbound.ts); implies defaultRoute. */
  nat?: boolean;
  /** Interface name inside the zone. Default eth0. */
  ifname?: string;
}

export interface Attachment {
  hostIfname: string;
  zoneIfname: string;
  mac: string;
  ipv4: string;
  ipv6: string;
  bridge: string;
}

async function deleteLink(name: string): Promise<void> {
  try {
    await ip('link', 'del', 'dev', name);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

/** Plug the zone into the bridge (creating the bridge if needed) and configure lo + eth0 inside its netns. */
export async function attachZone(opts: AttachOptions): Promise<Attachment> {
  checkZoneName(opts.zoneName);
  if (!Number.isInteger(opts.pid) || opts.pid <= 1) throw new LxzoneError(`attachZone: pid ${opts.pid} is not a zone init pid`);
  const br = await ensureBridge(opts.bridge);
  if (opts.address.bridge !== br.name) {
    throw new LxzoneError(`attachZone: lease of ${opts.zoneName} is on bridge ${opts.address.bridge}, not ${br.name}`);
  }
  const { host, peer } = vethNames(br.name, opts.zoneName);
  const alias = vethAlias(br.name, opts.zoneName);
  const mac = zoneMac(br.name, opts.zoneName);
  const inside = opts.ifname ?? 'eth0';

  const old = await linkInfo(host);
  if (old) {
    if (old.ifalias !== alias) {
      throw new LxzoneError(`interface ${host} exists and does not belong to zone ${opts.zoneName} (alias ${JSON.stringify(old.ifalias ?? '')})`);
    }
    // Left over from an earlier boot whose namespace is still alive (or a failed attach): replace it.
    await deleteLink(host);
  }
  await deleteLink(peer); // a failed earlier attach may have left the peer on the host

  // Source validation first: the port never carries a frame without it (guard.ts).
  await guardPort({ hostIfname: host, mac, ipv4: opts.address.ipv4, ipv6: opts.address.ipv6 });
  await ip('link', 'add', host, 'mtu', String(br.mtu), 'type', 'veth', 'peer', 'name', peer, 'address', mac, 'mtu', String(br.mtu));
  try {
    await ipBatch([
      `link set dev ${host} alias "${alias}"`,
      `link set dev ${host} master ${br.name}`,
      `link set dev ${host} up`,
      `link set dev ${peer} netns ${opts.pid}`,
    ]);
    const a = opts.address;
    const lines = [
      `link set dev lo up`,
      `link set dev ${peer} name ${inside}`,
      `addr add ${a.ipv4}/${a.prefixLen4} dev ${inside}`,
      `addr add ${a.ipv6}/${a.prefixLen6} dev ${inside} nodad`,
      `link set dev ${inside} up`,
    ];
    if (opts.defaultRoute || opts.nat) lines.push(`route replace default via ${a.gateway4}`, `route replace default via ${a.gateway6}`);
    await ipBatchIn(opts.pid, lines);
    // The address may have been allowed out by a zone that held it before (a daemon killed before its cleanup).
    if (opts.nat) await allowOutbound(br, a.ipv4);
    else await revokeOutbound(br, a.ipv4);
  } catch (err) {
    await deleteLink(host).catch(() => {}); // deleting one end deletes the pair, wherever the peer is
    await unguardPort(host).catch(() => {});
    throw err;
  }
  return { hostIfname: host, zoneIfname: inside, mac, ipv4: opts.address.ipv4, ipv6: opts.address.ipv6, bridge: br.name };
}

/** Remove the zone's veth pair (both ends), its published ports and, given its address, its way out.
 *  Idempotent: returns false when there was no link to remove. */
export async function detachZone(zoneName: string, bridge?: BridgeConfig, ipv4?: string): Promise<boolean> {
  checkZoneName(zoneName);
  const brName = bridge?.name ?? DEFAULT_BRIDGE;
  const { host, peer } = vethNames(brName, zoneName);
  let removed = false;
  const link = await linkInfo(host);
  if (link) {
    if (link.ifalias !== vethAlias(brName, zoneName)) {
      throw new LxzoneError(`interface ${host} does not belong to zone ${zoneName}; not removing it`);
    }
    await deleteLink(host);
    removed = true;
  }
  if (await linkInfo(peer)) {
    await deleteLink(peer);
    removed = true;
  }
  await unpublishPorts(host);
  if (ipv4 !== undefined) await revokeOutbound(bridge ?? {}, ipv4);
  await unguardPort(host);
  return removed;
}
