// Docker's published ports (-p, -P) as a zone's `network.ports`, and back as
// Docker shows them: NetworkSettings.Ports in inspect, Ports in ps, which
// `docker port` reads. A port given without a host port (-p 80, -P) gets a
// free one of the host now, at create, so the container keeps it across
// stop/start (dockerd picks again at each start).
import { createServer } from 'node:net';
import { parsePublish, type PublishedPort } from '../../zone/network/publish.js';
import { badRequest } from './errors.js';

interface Binding {
  HostIp?: string;
  HostPort?: string;
}

/** A free port of the host (the kernel's pick for port 0). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ port: 0, host: '0.0.0.0' }, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function containerPort(key: string): { port: number; proto: 'tcp' | 'udp' } {
  const m = /^([0-9]{1,5})(?:\/(tcp|udp|sctp))?$/.exec(key);
  if (!m) throw badRequest(`invalid port specification: "${key}"`);
  if (m[2] === 'sctp') throw badRequest(`${key}: lxzone publishes tcp and udp ports only`);
  return { port: Number(m[1]), proto: (m[2] as 'tcp' | 'udp' | undefined) ?? 'tcp' };
}

/** The zone's `network.ports` for a create request's PortBindings (and, with -P, its ExposedPorts). */
export async function publishedPorts(
  bindings: Record<string, unknown> | null | undefined,
  exposed: Record<string, unknown> | null | undefined,
  publishAll: boolean,
): Promise<string[]> {
  const out: string[] = [];
  const wanted = new Map<string, Binding[]>();
  for (const [key, v] of Object.entries(bindings ?? {})) wanted.set(key, Array.isArray(v) && v.length > 0 ? (v as Binding[]) : [{}]);
  if (publishAll) for (const key of Object.keys(exposed ?? {})) if (!wanted.has(key)) wanted.set(key, [{}]);
  for (const [key, list] of wanted) {
    const c = containerPort(key);
    for (const b of list) {
      const ip = b.HostIp && b.HostIp !== '0.0.0.0' ? b.HostIp : undefined;
      if (ip !== undefined && ip.includes(':')) throw badRequest(`${ip}: lxzone publishes ports on IPv4 host addresses only`);
      if (b.HostPort?.includes('-')) throw badRequest(`${b.HostPort}: port ranges are not supported by lxzone`);
      const host = b.HostPort ? b.HostPort : String(await freePort());
      const spec = `${ip ? `${ip}:` : ''}${host}:${c.port}/${c.proto}`;
      try {
        parsePublish(spec);
      } catch (e) {
        throw badRequest((e as Error).message);
      }
      out.push(spec);
    }
  }
  return out;
}

const parsed = (specs: string[] | undefined): PublishedPort[] => (specs ?? []).map(parsePublish);

/** NetworkSettings.Ports: every published port of a running container ({} otherwise, as dockerd). */
export function portsMap(specs: string[] | undefined, running: boolean): Record<string, { HostIp: string; HostPort: string }[]> {
  const out: Record<string, { HostIp: string; HostPort: string }[]> = {};
  if (!running) return out;
  for (const p of parsed(specs)) (out[`${p.containerPort}/${p.proto}`] ??= []).push({ HostIp: p.hostIp ?? '0.0.0.0', HostPort: String(p.hostPort) });
  return out;
}

/** HostConfig.PortBindings as the zone holds them (host ports chosen at create filled in). */
export function portBindings(specs: string[] | undefined): Record<string, { HostIp: string; HostPort: string }[]> {
  const out: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const p of parsed(specs)) (out[`${p.containerPort}/${p.proto}`] ??= []).push({ HostIp: p.hostIp ?? '', HostPort: String(p.hostPort) });
  return out;
}

/** The Ports of `docker ps` (of a running container). */
export function portsList(specs: string[] | undefined, running: boolean) {
  if (!running) return [];
  return parsed(specs).map((p) => ({ IP: p.hostIp ?? '0.0.0.0', PrivatePort: p.containerPort, PublicPort: p.hostPort, Type: p.proto }));
}
