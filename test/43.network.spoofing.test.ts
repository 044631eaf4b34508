// Issue 14.4: a zone sends only from its own addresses and MAC, and reaches
// the host only at the gateway on allowed ports. The attacker here holds
// every capability in its network namespace (a stand-in zone: `sleep` in a
// namespace of its own, driven as root, as a zone whose root owns its
// network namespace could): it re-addresses itself, binds foreign addresses
// with IP_FREEBIND and IPV6_FREEBIND, changes its MAC, sends a raw Ethernet
// frame with a forged IPv4 source, and routes to the host's other address.
// A second stand-in zone listens and reports who reached it.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachZone, detachZone, Ipam, removeBridge, resolveBridge, zoneMac, type Lease } from '../src/zone/network/index.js';

const ALLOWED = 18431;
const CLOSED = 18432;
const UDP = 18433;
const bridge = { name: `lxz43-${(process.pid % 4096).toString(16)}`, subnet: `10.218.${process.pid % 256}.0/24`, hostPorts: [`tcp/${ALLOWED}`] };
const stateDir = mkdtempSync(join(tmpdir(), 'lxz43-'));
const children: ChildProcess[] = [];
const PY = '/usr/bin/python3';

function standIn(): number {
  const child = spawn('unshare', ['--net', 'sleep', '120'], { stdio: 'ignore' });
  children.push(child);
  return child.pid!;
}

async function waitNetns(pid: number): Promise<void> {
  const mine = execFileSync('readlink', ['/proc/self/ns/net']).toString();
  for (let i = 0; i < 100; i++) {
    try {
      if (execFileSync('readlink', [`/proc/${pid}/ns/net`]).toString() !== mine) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`pid ${pid} never entered a new netns`);
}

const inNs = (pid: number, ...cmd: string[]) => execFileSync('nsenter', ['-t', String(pid), '-n', ...cmd], { timeout: 20_000 }).toString();
const py = (pid: number, code: string, ...args: string[]) => inNs(pid, PY, '-c', code, ...args);

// Sends one UDP datagram `payload` from `src` (bound with FREEBIND, so any address) to `dst`.
const SEND = `
import socket, sys
src, dst, port, payload = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4].encode()
fam = socket.AF_INET6 if ':' in dst else socket.AF_INET
s = socket.socket(fam, socket.SOCK_DGRAM)
if fam == socket.AF_INET6: s.setsockopt(socket.IPPROTO_IPV6, 78, 1)  # IPV6_FREEBIND
else: s.setsockopt(socket.IPPROTO_IP, 15, 1); s.setsockopt(socket.IPPROTO_IP, 19, 1)  # IP_FREEBIND, IP_TRANSPARENT (routing a foreign IPv4 source needs it)
s.bind((src, 0))
s.sendto(payload, (dst, port))
`;

// A raw Ethernet frame on eth0: IPv4/UDP from `src` to `dst` (MAC dmac), our own MAC as the sender.
const RAW = `
import socket, struct, sys
src, dst, dmac, port, payload = sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3].replace(':', '')), int(sys.argv[4]), sys.argv[5].encode()
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(('eth0', 0))
smac = s.getsockname()[4]
udp = struct.pack('!HHHH', 40000, port, 8 + len(payload), 0) + payload
hdr = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0, socket.inet_aton(src), socket.inet_aton(dst))
csum = sum(struct.unpack('!10H', hdr)); csum = (csum & 0xffff) + (csum >> 16); csum = ~((csum & 0xffff) + (csum >> 16)) & 0xffff
hdr = hdr[:10] + struct.pack('!H', csum) + hdr[12:]
s.send(dmac + smac + b'\\x08\\x00' + hdr + udp)
`;

// Listens on UDP (v4 and v6) and prints "payload from address" for each datagram.
const LISTEN = `
import select, socket, sys
port = int(sys.argv[1])
a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); a.bind(('0.0.0.0', port))
b = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); b.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1); b.bind(('::', port))
print('ready', flush=True)
while True:
    for s in select.select([a, b], [], [])[0]:
        data, addr = s.recvfrom(2048)
        print(data.decode(), 'from', addr[0], flush=True)
`;

const CONNECT = `
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)
    print(c.recv(100).decode())
except Exception as e:
    print('failed', type(e).__name__)
`;

let ipam: Ipam;
const pid: Record<string, number> = {};
const lease: Record<string, Lease> = {};
let heard = '';

beforeAll(async () => {
  await removeBridge(bridge, { force: true });
  ipam = new Ipam({ stateDir, bridge });
  for (const z of ['attacker', 'victim', 'bystander']) {
    pid[z] = standIn();
    await waitNetns(pid[z]);
    lease[z] = await ipam.allocate(z);
    await attachZone({ zoneName: z, pid: pid[z], address: lease[z], bridge, defaultRoute: true });
  }
  const listener = spawn('nsenter', ['-t', String(pid.victim), '-n', PY, '-c', LISTEN, String(UDP)], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(listener);
  listener.stdout!.on('data', (d) => (heard += d));
  while (!heard.includes('ready')) await new Promise((r) => setTimeout(r, 50));
}, 60_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const z of ['attacker', 'victim', 'bystander']) await detachZone(z, bridge).catch(() => {});
  await removeBridge(bridge, { force: true }).catch(() => {});
  rmSync(stateDir, { recursive: true, force: true });
});

/** Sends what `send` sends, waits a moment, returns the victim's new lines. */
async function victimHears(send: () => void): Promise<string> {
  const before = heard.length;
  send();
  await new Promise((r) => setTimeout(r, 700));
  return heard.slice(before);
}

describe('source validation on the bridge', () => {
  it('delivers what a zone sends from its own addresses (the control)', async () => {
    const got = await victimHears(() => {
      py(pid.attacker, SEND, lease.attacker.ipv4, lease.victim.ipv4, String(UDP), 'legit4');
      py(pid.attacker, SEND, lease.attacker.ipv6, lease.victim.ipv6, String(UDP), 'legit6');
    });
    expect(got).toMatch(new RegExp(`legit4 from ${lease.attacker.ipv4.replace(/\./g, '\\.')}`));
    expect(got).toMatch(/legit6 from /);
  });

  it("drops IPv4 and IPv6 sent from another zone's, the gateway's or any address (IP_FREEBIND + IP_TRANSPARENT, IPV6_FREEBIND)", async () => {
    const br = resolveBridge(bridge);
    const got = await victimHears(() => {
      for (const [src, tag] of [[lease.bystander.ipv4, 'as-bystander4'], [br.gateway4, 'as-gateway4'], ['192.0.2.7', 'as-any4']] as const) {
        py(pid.attacker, SEND, src, lease.victim.ipv4, String(UDP), tag);
      }
      for (const [src, tag] of [[lease.bystander.ipv6, 'as-bystander6'], [br.gateway6, 'as-gateway6'], ['2001:db8::7', 'as-any6']] as const) {
        py(pid.attacker, SEND, src, lease.victim.ipv6, String(UDP), tag);
      }
      // Re-addressed for real: a second address on its own eth0.
      inNs(pid.attacker, 'ip', 'addr', 'add', `${lease.bystander.ipv6}/64`, 'dev', 'eth0', 'nodad');
      py(pid.attacker, SEND, lease.bystander.ipv6, lease.victim.ipv6, String(UDP), 'readdressed6');
      inNs(pid.attacker, 'ip', 'addr', 'del', `${lease.bystander.ipv6}/64`, 'dev', 'eth0');
    });
    expect(got).toBe('');
  });

  it('drops a raw frame with a forged IPv4 source, and everything sent under a forged MAC', async () => {
    const victimMac = zoneMac(bridge.name, 'victim');
    const got = await victimHears(() => {
      py(pid.attacker, RAW, lease.bystander.ipv4, lease.victim.ipv4, victimMac, String(UDP), 'raw-forged');
      py(pid.attacker, RAW, lease.attacker.ipv4, lease.victim.ipv4, victimMac, String(UDP), 'raw-own');
      inNs(pid.attacker, 'ip', 'link', 'set', 'dev', 'eth0', 'address', '02:00:00:00:43:99');
      py(pid.attacker, SEND, lease.attacker.ipv4, lease.victim.ipv4, String(UDP), 'forged-mac4');
      py(pid.attacker, SEND, lease.attacker.ipv6, lease.victim.ipv6, String(UDP), 'forged-mac6');
      inNs(pid.attacker, 'ip', 'link', 'set', 'dev', 'eth0', 'address', zoneMac(bridge.name, 'attacker'));
    });
    // The raw frame from its own address and MAC is the control.
    expect(got.trim().split('\n')).toEqual([`raw-own from ${lease.attacker.ipv4}`]);
  });
});

describe("the host, seen from a zone's bridge", () => {
  let servers: ChildProcess;
  beforeAll(async () => {
    const js = `for (const p of [${ALLOWED}, ${CLOSED}]) require('net').createServer(c=>c.end('host-'+p)).listen(p,'::');setTimeout(()=>process.exit(0),60000).unref();console.log('ready')`;
    servers = spawn(process.execPath, ['-e', js], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(servers);
    await new Promise((r) => servers.stdout!.once('data', r));
  });

  it('answers at the gateway on an allowed port only', () => {
    const br = resolveBridge(bridge);
    expect(py(pid.attacker, CONNECT, br.gateway4, String(ALLOWED)).trim()).toBe(`host-${ALLOWED}`);
    expect(py(pid.attacker, CONNECT, br.gateway6, String(ALLOWED)).trim()).toBe(`host-${ALLOWED}`);
    expect(py(pid.attacker, CONNECT, br.gateway4, String(CLOSED)).trim()).toMatch(/^failed/);
    expect(py(pid.attacker, CONNECT, br.gateway6, String(CLOSED)).trim()).toMatch(/^failed/);
    // The host itself still reaches both (the rules are for traffic from the bridge only).
    expect(execFileSync(PY, ['-c', CONNECT, '127.0.0.1', String(CLOSED)]).toString().trim()).toBe(`host-${CLOSED}`);
  });

  it("never reaches the host's other addresses, through the gateway or on-link (SO_BINDTODEVICE-style)", () => {
    const other = JSON.parse(execFileSync('ip', ['-j', 'route', 'get', '192.0.2.1']).toString())[0]?.prefsrc as string | undefined;
    expect(other, 'the host needs an address outside the bridge for this test').toBeDefined();
    expect(py(pid.attacker, CONNECT, other!, String(ALLOWED)).trim()).toMatch(/^failed/);
    inNs(pid.attacker, 'ip', 'route', 'add', `${other}/32`, 'dev', 'eth0');
    try {
      expect(py(pid.attacker, CONNECT, other!, String(ALLOWED)).trim()).toMatch(/^failed/);
    } finally {
      inNs(pid.attacker, 'ip', 'route', 'del', `${other}/32`, 'dev', 'eth0');
    }
    expect(execFileSync(PY, ['-c', CONNECT, other!, String(ALLOWED)]).toString().trim()).toBe(`host-${ALLOWED}`);
  });
});
