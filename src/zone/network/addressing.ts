// Address arithmetic and naming for zone networks. Pure functions: the bridge,
// veth and IPAM modules all derive names and addresses from here, so the same
// zone name always yields the same interface names, MAC and IPv6 address.
import { createHash } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { LxzoneError } from '../../errors.js';

/** Default bridge. 10.213.0.0/16 avoids docker (172.17/16), podman (10.88/16),
 *  kubernetes (10.96/12, 10.244/16) and the usual home-router /24s. */
export const DEFAULT_BRIDGE = 'lxzone0';
export const DEFAULT_SUBNET = '10.213.0.0/16';

export interface BridgeConfig {
  /** Bridge interface name (≤ 15 chars). Default lxzone0. */
  name?: string;
  /** IPv4 subnet in CIDR notation; the bridge (host) takes the first host address. Default 10.213.0.0/16. */
  subnet?: string;
  /** IPv6 /64 prefix, e.g. "fd12:3456:789a::/64". Default: a ULA prefix derived from name + subnet (RFC 4193 style). */
  ipv6Prefix?: string;
  /** MTU of the bridge and the veth pairs. Default 1500. */
  mtu?: number;
  /** What zones may reach of the host, at the gateway only: "tcp/PORT", "udp/PORT" (guard.ts). Default none. */
  hostPorts?: string[];
  /** An internal network (Docker's --internal): its zones get no NAT, no default route and no published ports. */
  internal?: boolean;
}

export interface ResolvedBridge {
  name: string;
  /** Canonical CIDR, e.g. "10.213.0.0/16". */
  subnet: string;
  network: number; // IPv4 network address as an unsigned 32-bit int
  prefixLen: number;
  /** First host address: the bridge's own address and the zones' gateway. */
  gateway4: string;
  /** The /64 as 4 hex groups (the upper 64 bits), e.g. ["fd3a","1b2c","9d00","0"]. */
  ipv6Groups: string[];
  ipv6Prefix: string; // "fd3a:1b2c:9d00::/64"
  gateway6: string; // prefix::1
  mtu: number;
}

const IFNAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;

export function ipv4ToInt(addr: string): number {
  if (!isIPv4(addr)) throw new LxzoneError(`not an IPv4 address: ${JSON.stringify(addr)}`);
  return addr.split('.').reduce((acc, part) => ((acc << 8) | Number(part)) >>> 0, 0);
}

export function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

function mask(prefixLen: number): number {
  return prefixLen === 0 ? 0 : (0xffffffff << (32 - prefixLen)) >>> 0;
}

/** Parse "a.b.c.d/n" into network int + prefix length; host bits must be zero. */
export function parseCidr4(cidr: string): { network: number; prefixLen: number } {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(cidr);
  const len = m ? Number(m[2]) : NaN;
  if (!m || !isIPv4(m[1]) || len < 8 || len > 30) {
    throw new LxzoneError(`network.subnet: ${JSON.stringify(cidr)} is not an IPv4 CIDR with a prefix length of 8..30`, {
      where: 'network.subnet',
    });
  }
  const ip = ipv4ToInt(m[1]);
  const network = (ip & mask(len)) >>> 0;
  if (network !== ip) {
    throw new LxzoneError(`network.subnet: ${cidr} has host bits set (the network is ${intToIpv4(network)}/${len})`, {
      where: 'network.subnet',
    });
  }
  return { network, prefixLen: len };
}

/** Expand an IPv6 address into 8 numeric groups. */
export function expandIpv6(addr: string): number[] {
  if (!isIPv6(addr) || addr.includes('.')) throw new LxzoneError(`not an IPv6 address: ${JSON.stringify(addr)}`);
  const [head, tail] = addr.includes('::') ? addr.split('::') : [addr, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const fill = tail === undefined ? [] : new Array(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((g) => parseInt(g, 16));
}

/** RFC 5952 text form: lower case, no leading zeros, the longest run (≥ 2) of zero groups as "::". */
export function compressIpv6(groups: number[]): string {
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** Upper 64 bits of a ULA derived from a stable seed: fd + 40-bit global id + subnet id 0. */
function derivedUlaGroups(seed: string): number[] {
  const h = createHash('sha256').update(seed).digest();
  return [0xfd00 | h[0], (h[1] << 8) | h[2], (h[3] << 8) | h[4], 0];
}

export function resolveBridge(cfg: BridgeConfig = {}): ResolvedBridge {
  const name = cfg.name ?? DEFAULT_BRIDGE;
  if (!IFNAME_RE.test(name)) {
    throw new LxzoneError(`network.bridge: ${JSON.stringify(name)} is not a valid interface name (1-15 of A-Z a-z 0-9 _ . -)`, {
      where: 'network.bridge',
    });
  }
  const { network, prefixLen } = parseCidr4(cfg.subnet ?? DEFAULT_SUBNET);
  const subnet = `${intToIpv4(network)}/${prefixLen}`;
  let groups: number[];
  if (cfg.ipv6Prefix !== undefined) {
    const m = /^([0-9A-Fa-f:]+)\/64$/.exec(cfg.ipv6Prefix);
    if (!m) throw new LxzoneError(`network.ipv6Prefix: ${JSON.stringify(cfg.ipv6Prefix)} must be an IPv6 /64`, { where: 'network.ipv6Prefix' });
    const all = expandIpv6(m[1]);
    if (all.slice(4).some((g) => g !== 0)) {
      throw new LxzoneError(`network.ipv6Prefix: ${cfg.ipv6Prefix} has bits set below the /64`, { where: 'network.ipv6Prefix' });
    }
    groups = all.slice(0, 4);
  } else {
    groups = derivedUlaGroups(`lxzone:${name}:${subnet}`);
  }
  const mtu = cfg.mtu ?? 1500;
  if (!Number.isInteger(mtu) || mtu < 1280 || mtu > 65535) {
    throw new LxzoneError(`network.mtu: ${mtu} is outside 1280..65535`, { where: 'network.mtu' });
  }
  return {
    name,
    subnet,
    network,
    prefixLen,
    gateway4: intToIpv4(network + 1),
    ipv6Groups: groups.map((g) => g.toString(16)),
    ipv6Prefix: `${compressIpv6([...groups, 0, 0, 0, 0])}/64`,
    gateway6: compressIpv6([...groups, 0, 0, 0, 1]),
    mtu,
  };
}

/** Number of usable zone addresses: all hosts minus network, gateway and broadcast. */
export function hostCount(br: ResolvedBridge): number {
  return 2 ** (32 - br.prefixLen) - 3;
}

/** Host index (offset from the network address) of an IPv4 address, or undefined when outside the subnet. */
export function hostIndex(br: ResolvedBridge, addr: string): number | undefined {
  const n = ipv4ToInt(addr);
  if (((n & mask(br.prefixLen)) >>> 0) !== br.network) return undefined;
  return n - br.network;
}

/** The zone's IPv4 and IPv6 addresses for a host index: IPv6 = prefix::<index>, so the pair is one lease. */
export function addressesFor(br: ResolvedBridge, index: number): { ipv4: string; ipv6: string } {
  const g = br.ipv6Groups.map((x) => parseInt(x, 16));
  const ipv6 = compressIpv6([...g, 0, 0, Math.floor(index / 0x10000), index & 0xffff]);
  return { ipv4: intToIpv4(br.network + index), ipv6 };
}

function digest(...parts: string[]): Buffer {
  return createHash('sha256').update(parts.join('\0')).digest();
}

/** Interface names of a zone's veth pair: "lxz" + 12 hex chars (15 = IFNAMSIZ-1), the peer "lxp" + the same. */
export function vethNames(bridge: string, zone: string): { host: string; peer: string } {
  const h = digest('veth', bridge, zone).subarray(0, 6).toString('hex');
  return { host: `lxz${h}`, peer: `lxp${h}` };
}

/** A stable locally administered unicast MAC for the zone's eth0: neighbours' ARP caches stay valid across restarts. */
export function zoneMac(bridge: string, zone: string): string {
  const h = digest('mac', bridge, zone);
  const bytes = [0x02, h[0], h[1], h[2], h[3], h[4]];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** The alias written on the host-side veth: who owns it, so cleanup never touches foreign links. */
export function vethAlias(bridge: string, zone: string): string {
  return `lxzone:${bridge}:${zone}`;
}

const ZONE_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/** Zone names reach interface aliases, file names and cgroup paths: keep them to a safe set. */
export function checkZoneName(zone: string): void {
  if (typeof zone !== 'string' || !ZONE_RE.test(zone)) {
    throw new LxzoneError(`zone name ${JSON.stringify(zone)} is not 1-63 of A-Z a-z 0-9 _ . - (starting with a letter or digit)`, {
      where: 'name',
    });
  }
}
