// Network isolation on the host side of the bridge (issue 14.4), in nftables
// so it holds whatever a zone does inside its own namespace (a zone whose
// root has CAP_NET_ADMIN/CAP_NET_RAW there can re-address itself, change its
// MAC, use IP_FREEBIND/IPV6_FREEBIND or send raw frames):
//   - per port, a bridge-family table `lxzone_port_<veth>`: a frame from the
//     zone's veth must carry the zone's MAC, ARP only for its IPv4 address
//     (or 0.0.0.0, a probe), IPv4 from its address, IPv6 from its ULA or its
//     EUI-64 link-local address (or :: for neighbour solicitation and MLD,
//     as DAD sends them); any other ethertype (VLAN tags included) is
//     dropped. As Triton's anti-spoofing did, per port.
//   - per bridge, an inet table `lxzone_host_<bridge>`: what a zone sends to
//     the host itself (the input hook, arriving on the bridge) is accepted
//     only at the gateway addresses, for replies, ping, neighbour discovery
//     and the ports the bridge config allows (`hostPorts`, "tcp/53"): the
//     host's other addresses (its uplink, other bridges' gateways) and every
//     other port are dropped, however the zone routes or binds.
// Tables are replaced whole in one transaction and deleted whole, so no
// other rule set is ever touched.
import { LxzoneError } from '../../errors.js';
import type { ResolvedBridge } from './addressing.js';
import { run } from './exec.js';

const tableName = (prefix: string, dev: string) => `${prefix}${dev.replace(/[^A-Za-z0-9_]/g, '_')}`;
export const portTable = (hostIfname: string) => tableName('lxzone_port_', hostIfname);
export const hostTable = (bridge: string) => tableName('lxzone_host_', bridge);

/** The EUI-64 link-local address the kernel gives an interface with this MAC. */
export function linkLocalOf(mac: string): string {
  const b = mac.split(':').map((x) => parseInt(x, 16));
  b[0]! ^= 0x02;
  const groups = [(b[0]! << 8) | b[1]!, (b[2]! << 8) | 0xff, (0xfe << 8) | b[3]!, (b[4]! << 8) | b[5]!];
  return `fe80::${groups.map((g) => g.toString(16)).join(':')}`;
}

async function nft(script: string, what: string): Promise<void> {
  try {
    await run('nft', ['-f', '-'], `${script}\n`);
  } catch (err) {
    const text = String((err as Error).message ?? err);
    if (/cannot run nft/.test(text)) {
      throw new LxzoneError(`zone networks need nftables for ${what} (apt-get install nftables)`, { code: 'ENOENT', exitCode: 125 });
    }
    throw new LxzoneError(`nftables refused ${what}: ${text}`, { code: 'EIO', exitCode: 125 });
  }
}

export interface PortGuard {
  hostIfname: string;
  mac: string;
  ipv4: string;
  ipv6: string;
}

/** Installs (or replaces) the port's source validation. Call before the port carries frames. */
export async function guardPort(p: PortGuard): Promise<void> {
  const t = portTable(p.hostIfname);
  const dev = JSON.stringify(p.hostIfname);
  await nft(
    [
      `table bridge ${t} {}`,
      `delete table bridge ${t}`,
      `table bridge ${t} {`,
      `  chain from_zone {`,
      `    type filter hook prerouting priority filter; policy accept;`,
      `    iifname != ${dev} accept`,
      `    ether saddr != ${p.mac} counter drop comment "lxzone: forged MAC"`,
      `    ether type arp arp saddr ether != ${p.mac} counter drop comment "lxzone: forged ARP sender MAC"`,
      `    ether type arp arp saddr ip != { ${p.ipv4}, 0.0.0.0 } counter drop comment "lxzone: forged ARP sender address"`,
      `    ether type arp accept`,
      `    ether type ip ip saddr != ${p.ipv4} counter drop comment "lxzone: forged IPv4 source"`,
      `    ether type ip accept`,
      `    ether type ip6 ip6 saddr { ${p.ipv6}, ${linkLocalOf(p.mac)} } accept`,
      `    ether type ip6 ip6 saddr :: icmpv6 type { nd-neighbor-solicit, mld-listener-report, mld2-listener-report } accept`,
      `    counter drop comment "lxzone: forged IPv6 source, or not ARP/IPv4/IPv6"`,
      `  }`,
      `}`,
    ].join('\n'),
    `the source validation of port ${p.hostIfname}`,
  );
}

/** Removes the port's table (idempotent). */
export async function unguardPort(hostIfname: string): Promise<void> {
  await deleteTable('bridge', portTable(hostIfname));
}

async function deleteTable(family: string, t: string): Promise<void> {
  try {
    await run('nft', ['delete', 'table', family, t]);
  } catch (err) {
    const text = String((err as Error).message ?? err);
    if (/No such file or directory|does not exist|cannot run nft/.test(text)) return;
    throw err;
  }
}

/** "tcp/53", "udp/5353": a port zones may reach at the gateway. */
export function parseHostPort(spec: string): { proto: 'tcp' | 'udp'; port: number } {
  const m = /^(tcp|udp)\/([0-9]{1,5})$/.exec(spec);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) {
    throw new LxzoneError(`host port ${JSON.stringify(spec)}: must be tcp/PORT or udp/PORT (1-65535)`, { code: 'EINVAL', where: 'network.hostPorts', exitCode: 2 });
  }
  return { proto: m[1] as 'tcp' | 'udp', port };
}

/** Installs (or replaces) what zones on the bridge may reach of the host itself. */
export async function guardHost(br: ResolvedBridge, hostPorts: string[] = []): Promise<void> {
  const t = hostTable(br.name);
  const dev = JSON.stringify(br.name);
  const allowed = hostPorts.map(parseHostPort);
  const portRules = allowed.map(
    (a) => `    ${a.proto} dport ${a.port} ip daddr ${br.gateway4} accept\n    ${a.proto} dport ${a.port} ip6 daddr ${br.gateway6} accept`,
  );
  await nft(
    [
      `table inet ${t} {}`,
      `delete table inet ${t}`,
      `table inet ${t} {`,
      `  chain from_zones {`,
      // Before other input rules: a host's own accept-all must not let zones in.
      `    type filter hook input priority filter - 10; policy accept;`,
      `    iifname != ${dev} accept`,
      `    ct state established,related accept`,
      `    ip daddr ${br.gateway4} icmp type echo-request accept`,
      `    ip6 daddr { ${br.gateway6}, fe80::/64, ff02::/16 } icmpv6 type { echo-request, nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, mld-listener-report, mld2-listener-report } accept`,
      ...portRules,
      `    counter drop comment "lxzone: zones reach the host only at the gateway, on allowed ports"`,
      `  }`,
      `}`,
    ].join('\n'),
    `the host's protection from bridge ${br.name}`,
  );
}

/** Removes the bridge's host table (idempotent). */
export async function unguardHost(bridge: string): Promise<void> {
  await deleteTable('inet', hostTable(bridge));
}
