// Published ports: a port of the host forwarded to a port of one zone
// (`docker run -p 8080:80`, `lxzone create --publish 8080:80`). One
// nftables table per zone ("lxzpub_<veth>", ip family), made at boot after
// the zone's link and deleted when the zone stops:
//   - prerouting DNAT for connections arriving at a host address from
//     elsewhere (another machine, another zone), output DNAT for the host's
//     own connections (127.0.0.1 included: route_localnet on the bridge,
//     with the masquerade and loopback guard of outbound.ts);
//   - the target is always the zone's own address and a port the user gave:
//     a rule never points at the host, so a published port is no way into
//     the host's services;
//   - set `claims` (protocol . host port) names what the zone holds: a port
//     another zone holds, or on which a host process listens, is refused
//     (checked and claimed under a lock, so two boots cannot both win).
// The bridge's forward table lets DNATed connections in (`ct status dnat`).
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { isIPv4 } from 'node:net';
import { join } from 'node:path';
// fs.promises, not node:fs/promises: a getter that loads it when first used, not on every CLI start (issue 18).
import { promises as fsp } from 'node:fs';
import { LxzoneError } from '../../errors.js';
import { run } from './exec.js';
import { withLock } from './lock.js';
import { enableForwarding } from './outbound.js';

export interface PublishedPort {
  proto: 'tcp' | 'udp';
  hostPort: number;
  containerPort: number;
  /** Only connections to this host address (default: every address of the host). */
  hostIp?: string;
}

export const publishTable = (hostIfname: string) => `lxzpub_${hostIfname.replace(/[^A-Za-z0-9_]/g, '_')}`;

const portNumber = (s: string, spec: string): number => {
  const n = Number(s);
  if (!/^[0-9]{1,5}$/.test(s) || n < 1 || n > 65535) {
    throw new LxzoneError(`published port ${JSON.stringify(spec)}: ${JSON.stringify(s)} is not a port (1-65535)`, { code: 'EINVAL', where: 'network.ports', exitCode: 2 });
  }
  return n;
};

/** "[HOSTIP:]HOSTPORT:CONTAINERPORT[/tcp|udp]" (Docker's -p, without ranges). */
export function parsePublish(spec: string): PublishedPort {
  const m = /^(?:(\d+\.\d+\.\d+\.\d+):)?([^:/]+):([^:/]+)(?:\/(tcp|udp))?$/.exec(spec);
  if (!m) {
    throw new LxzoneError(`published port ${JSON.stringify(spec)}: must be [HOSTIP:]HOSTPORT:ZONEPORT[/tcp|udp]`, { code: 'EINVAL', where: 'network.ports', exitCode: 2 });
  }
  if (m[1] !== undefined && !isIPv4(m[1])) throw new LxzoneError(`published port ${JSON.stringify(spec)}: ${m[1]} is not an IPv4 address`, { code: 'EINVAL', where: 'network.ports', exitCode: 2 });
  return {
    proto: (m[4] as 'tcp' | 'udp' | undefined) ?? 'tcp',
    hostPort: portNumber(m[2]!, spec),
    containerPort: portNumber(m[3]!, spec),
    ...(m[1] !== undefined && m[1] !== '0.0.0.0' ? { hostIp: m[1] } : {}),
  };
}

export const formatPublish = (p: PublishedPort): string => `${p.hostIp ? `${p.hostIp}:` : ''}${p.hostPort}:${p.containerPort}/${p.proto}`;

interface SetJson {
  set?: { name: string; table: string; elem?: unknown[] };
}

/** Every claimed (proto, port) of every zone's table: "tcp/8080" → table. */
async function claimed(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const { stdout } = await run('nft', ['-j', 'list', 'sets', 'ip']);
  for (const item of (JSON.parse(stdout) as { nftables: SetJson[] }).nftables) {
    const s = item.set;
    if (!s || s.name !== 'claims' || !s.table.startsWith('lxzpub_')) continue;
    for (const e of s.elem ?? []) {
      const c = (e as { concat?: [string, number] }).concat;
      if (c) out.set(`${c[0]}/${c[1]}`, s.table);
    }
  }
  return out;
}

/** Whether a host process listens on the port (a DNAT rule would silently take its connections). */
function hostPortFree(p: PublishedPort): Promise<boolean> {
  return new Promise((resolve) => {
    if (p.proto === 'udp') {
      const s = createSocket('udp4');
      s.once('error', () => resolve(false));
      s.bind({ port: p.hostPort, address: p.hostIp ?? '0.0.0.0', exclusive: true }, () => s.close(() => resolve(true)));
      return;
    }
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen({ port: p.hostPort, host: p.hostIp ?? '0.0.0.0', exclusive: true }, () => s.close(() => resolve(true)));
  });
}

export interface PublishOptions {
  /** The zone's host-side veth (names the table). */
  hostIfname: string;
  /** The zone's bridge (route_localnet for the host's connections to 127.0.0.1). */
  bridge: string;
  /** The zone's IPv4 address. */
  ipv4: string;
  ports: PublishedPort[];
  /** A directory for the lock that serializes claims. */
  lockDir: string;
  /** For the error message. */
  zoneName: string;
}

/** Publish the zone's ports (replacing what its table held). Refuses, changing nothing, a port taken. */
export async function publishPorts(o: PublishOptions): Promise<void> {
  if (!isIPv4(o.ipv4)) throw new LxzoneError(`publishPorts: ${o.ipv4} is not an IPv4 address`);
  const t = publishTable(o.hostIfname);
  if (o.ports.length === 0) return unpublishPorts(o.hostIfname);
  const seen = new Set<string>();
  for (const p of o.ports) {
    const key = `${p.proto}/${p.hostPort}`;
    if (seen.has(key)) throw new LxzoneError(`zone ${o.zoneName}: host port ${key} is published twice`, { code: 'EINVAL', where: 'network.ports', exitCode: 2 });
    seen.add(key);
  }
  await withLock(join(o.lockDir, 'publish.lock'), async () => {
    const taken = await claimed();
    for (const p of o.ports) {
      const holder = taken.get(`${p.proto}/${p.hostPort}`);
      if (holder !== undefined && holder !== t) {
        throw new LxzoneError(`Bind for ${p.hostIp ?? '0.0.0.0'}:${p.hostPort} failed: port is already allocated (published by another zone)`, { code: 'EADDRINUSE', exitCode: 125 });
      }
      if (holder === undefined && !(await hostPortFree(p))) {
        throw new LxzoneError(`Bind for ${p.hostIp ?? '0.0.0.0'}:${p.hostPort}/${p.proto} failed: port is already in use on the host`, { code: 'EADDRINUSE', exitCode: 125 });
      }
    }
    const rules = o.ports.map((p) => {
      const dst = p.hostIp ? `ip daddr ${p.hostIp}` : 'fib daddr type local';
      return `${dst} ${p.proto} dport ${p.hostPort} dnat to ${o.ipv4}:${p.containerPort}`;
    });
    await run(
      'nft',
      ['-f', '-'],
      [
        `table ip ${t} {}`,
        `delete table ip ${t}`,
        `table ip ${t} {`,
        `  set claims { type inet_proto . inet_service; elements = { ${o.ports.map((p) => `${p.proto} . ${p.hostPort}`).join(', ')} }; }`,
        `  chain prerouting {`,
        `    type nat hook prerouting priority dstnat; policy accept;`,
        ...rules.map((r) => `    ${r}`),
        `  }`,
        `  chain output {`,
        `    type nat hook output priority -100; policy accept;`,
        ...rules.map((r) => `    ${r}`),
        `  }`,
        `}`,
        '',
      ].join('\n'),
    ).catch((err: Error) => {
      throw new LxzoneError(`nftables refused the published ports of zone ${o.zoneName}: ${err.message}`, { code: 'EIO', exitCode: 125 });
    });
  });
  // The host's own connections to 127.0.0.1:PORT leave through the bridge with a loopback source (masqueraded by outbound.ts).
  await fsp.writeFile(`/proc/sys/net/ipv4/conf/${o.bridge}/route_localnet`, '1').catch(() => {});
  await enableForwarding();
}

/** Withdraw the zone's published ports (idempotent). */
export async function unpublishPorts(hostIfname: string): Promise<void> {
  try {
    await run('nft', ['delete', 'table', 'ip', publishTable(hostIfname)]);
  } catch (err) {
    if (/No such file or directory|does not exist|cannot run nft/.test(String((err as Error).message))) return;
    throw err;
  }
}
