// Issue 14.4 from real zones (their network namespaces now belong to them):
// a zone forges IPv6 sources with IPV6_FREEBIND (no capability needed, the
// attack as found), and tries the host's other addresses and closed ports.
// The validation on the bridge and the host's input rules stop all of it.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { afterAll, expect, it } from 'vitest';
import { execZone } from '../src/zone/lifecycle/api.js';
import { resolveBridge } from '../src/zone/network/index.js';
import { useLifecycleEnv, waitFor } from './support/lifecycle-env.js';

const env = useLifecycleEnv(44);
const { ok } = env;
const UDP = 18441;
const CLOSED = 18442;
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

const LISTEN = `import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(("::", ${UDP}))
print("ready", flush=True)
while True:
    d, a = s.recvfrom(2048); print(d.decode(), "from", a[0], flush=True)`;

const SEND = `import socket, sys
for src, dst, tag in zip(sys.argv[1::3], sys.argv[2::3], sys.argv[3::3]):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, 78, 1)  # IPV6_FREEBIND: no capability needed
    s.bind((src, 0)); s.sendto(tag.encode(), (dst, ${UDP}))`;

const CONNECT = `import socket, sys
for host in sys.argv[2:]:
    try:
        c = socket.create_connection((host, int(sys.argv[1])), timeout=2); print(host, c.recv(50).decode())
    except Exception as e:
        print(host, "failed", type(e).__name__)`;

async function inZone(zone: string, code: string, ...args: string[]): Promise<string> {
  const r = await execZone(zone, { argv: ['/usr/bin/python3', '-c', code, ...args], stdio: 'pipe' });
  return r.stdout!.toString() + r.stderr!.toString();
}

it('a zone cannot send IPv6 from a forged source, nor reach the host off the gateway or on a closed port', async () => {
  await ok(['create', 'listener', '--', '/usr/bin/python3', '-u', '-c', LISTEN]);
  await ok(['create', 'forger', '--', '/bin/sh', '-c', 'sleep 600']);
  await ok(['boot', 'listener']);
  await ok(['boot', 'forger']);
  const zones = Object.fromEntries((await env.list()).map((z) => [z.name, z]));
  const [l, f] = [zones.listener!, zones.forger!];
  const br = resolveBridge(env.bridge);
  await waitFor(async () => (await ok(['logs', 'listener'])).includes('ready'), 30_000);

  const prefix = br.gateway6.replace(/::1$/, '::');
  await inZone('forger', SEND, f.ipv6!, l.ipv6!, 'own', br.gateway6, l.ipv6!, 'as-gateway', `${prefix}4242`, l.ipv6!, 'as-neighbour', '2001:db8::1', l.ipv6!, 'as-anyone');
  await new Promise((r) => setTimeout(r, 1000));
  const logs = await ok(['logs', 'listener']);
  expect(logs).toMatch(new RegExp(`^own from ${f.ipv6!.replace(/\./g, '\\.')}$`, 'm'));
  expect(logs).not.toMatch(/as-gateway|as-neighbour|as-anyone/);

  // The host: a service on every address, on a port not allowed.
  const server = spawn(process.execPath, ['-e', `require('net').createServer(c=>c.end('host')).listen(${CLOSED},'::',()=>console.log('ready'));setTimeout(()=>process.exit(0),60000).unref()`], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(server);
  await new Promise((r) => server.stdout!.once('data', r));
  const uplink = JSON.parse(execFileSync('ip', ['-j', 'route', 'get', '192.0.2.1']).toString())[0]?.prefsrc as string;
  expect(uplink).toBeDefined();
  const out = await inZone('forger', CONNECT, String(CLOSED), br.gateway4, br.gateway6, uplink);
  for (const host of [br.gateway4, br.gateway6, uplink]) expect(out).toMatch(new RegExp(`^${host} failed`, 'm'));
  // (the host itself is served: the rules are for what comes from the bridge)
  expect(execFileSync('/usr/bin/python3', ['-c', CONNECT, String(CLOSED), uplink]).toString()).toMatch(/ host$/m);
});
