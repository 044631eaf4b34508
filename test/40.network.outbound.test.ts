// Outside access per zone address, only when asked. An "outside" network
// namespace hangs off the host on its own veth (a stand-in uplink, no route
// back to the zones). A zone without NAT cannot reach it even with a default
// route and forwarding on; a zone with NAT connects and the outside sees the
// host's address (masquerade); the outside still cannot open a connection
// into a zone; zones still reach each other over the bridge (br_netfilter
// sends bridged frames through the forward hook); detaching the zone takes
// its address out of the set; removing the bridge removes the table.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  attachZone,
  detachZone,
  ensureBridge,
  Ipam,
  outboundAllowed,
  removeBridge,
  type Lease,
} from '../src/zone/network/index.js';

const bridge = { name: 'lxzt40o', subnet: '10.214.44.0/24' };
const UPLINK = 'lxzt40up';
const OUTSIDE_HOST = '10.215.44.1';
const OUTSIDE = '10.215.44.2';
const PORT = 18081;
const stateDir = mkdtempSync(join(tmpdir(), 'lxzone-out-'));
const procs: ChildProcess[] = [];
const forwardBefore = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();

async function netnsHolder(): Promise<number> {
  const child = spawn('unshare', ['--net', 'sleep', '60'], { stdio: 'ignore' });
  procs.push(child);
  const mine = execFileSync('readlink', ['/proc/self/ns/net']).toString();
  for (let i = 0; i < 100; i++) {
    try {
      if (execFileSync('readlink', [`/proc/${child.pid}/ns/net`]).toString() !== mine) return child.pid!;
    } catch {}
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('no netns');
}

const inNs = (pid: number, ...cmd: string[]) => execFileSync('nsenter', ['-t', String(pid), '-n', ...cmd], { timeout: 15_000 }).toString();

/** A server in `pid`'s netns answering each client with the client's address. */
async function serve(pid: number): Promise<ChildProcess> {
  const js = `const s=require('net').createServer(c=>c.end('peer='+c.remoteAddress.replace('::ffff:','')));s.listen(${PORT},'0.0.0.0',()=>console.log('ready'));setTimeout(()=>process.exit(0),30000).unref();`;
  const child = spawn('nsenter', ['-t', String(pid), '-n', process.execPath, '-e', js], { stdio: ['ignore', 'pipe', 'inherit'] });
  procs.push(child);
  await new Promise((r) => child.stdout!.once('data', r));
  return child;
}

/** Connect from `pid`'s netns; the server's answer, or null when no connection was made within 2 s. */
function tryFetch(pid: number, addr: string): string | null {
  const js = `const c=require('net').connect(${PORT},${JSON.stringify(addr)});let d='';c.on('data',b=>d+=b);c.on('end',()=>{process.stdout.write(d);process.exit(0)});c.on('error',()=>process.exit(2));setTimeout(()=>process.exit(3),2000);`;
  const r = spawnSync('nsenter', ['-t', String(pid), '-n', process.execPath, '-e', js], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 ? r.stdout : null;
}

let outside: number;
const zones: Record<string, { pid: number; lease: Lease }> = {};

beforeAll(async () => {
  await removeBridge(bridge, { force: true });
  spawnSync('ip', ['link', 'del', UPLINK]);
  outside = await netnsHolder();
  execFileSync('ip', ['link', 'add', UPLINK, 'type', 'veth', 'peer', 'name', `${UPLINK}p`]);
  execFileSync('ip', ['link', 'set', `${UPLINK}p`, 'netns', String(outside)]);
  execFileSync('ip', ['addr', 'add', `${OUTSIDE_HOST}/24`, 'dev', UPLINK]);
  execFileSync('ip', ['link', 'set', UPLINK, 'up']);
  inNs(outside, 'ip', 'addr', 'add', `${OUTSIDE}/24`, 'dev', `${UPLINK}p`);
  inNs(outside, 'ip', 'link', 'set', `${UPLINK}p`, 'up');
  await ensureBridge(bridge);
  const ipam = new Ipam({ stateDir, bridge });
  for (const z of ['one', 'two']) {
    const pid = await netnsHolder();
    const lease = await ipam.allocate(z);
    // Both have a default route: only NAT decides whether they get out.
    await attachZone({ zoneName: z, pid, address: lease, bridge, defaultRoute: true, nat: z === 'one' });
    zones[z] = { pid, lease };
  }
});

afterAll(async () => {
  for (const p of procs) p.kill('SIGKILL');
  await removeBridge(bridge, { force: true }).catch(() => {});
  spawnSync('ip', ['link', 'del', UPLINK]);
  writeFileSync('/proc/sys/net/ipv4/ip_forward', forwardBefore);
  rmSync(stateDir, { recursive: true, force: true });
});

describe('outbound access per zone address', () => {
  it('a zone with NAT reaches outside masqueraded as the host', async () => {
    await serve(outside);
    expect(await outboundAllowed(bridge, zones.one.lease.ipv4)).toBe(true);
    expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim()).toBe('1');
    expect(tryFetch(zones.one.pid, OUTSIDE)).toBe(`peer=${OUTSIDE_HOST}`);
  });

  it('a zone without NAT does not get out, not even with forwarding on and its own default route', () => {
    expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim()).toBe('1');
    // The outside even routes the zones' subnet back to the host: only the forward filter stops zone two.
    inNs(outside, 'ip', 'route', 'add', bridge.subnet, 'via', OUTSIDE_HOST);
    expect(tryFetch(zones.one.pid, OUTSIDE)).toBe(`peer=${OUTSIDE_HOST}`);
    expect(tryFetch(zones.two.pid, OUTSIDE)).toBeNull();
    // Forging the NAT zone's source address is stopped at the port (guard.ts), so the set cannot be borrowed.
    inNs(zones.two.pid, 'ip', 'addr', 'add', `${zones.one.lease.ipv4}/32`, 'dev', 'eth0');
    const js = `const c=require('net').connect({port:${PORT},host:${JSON.stringify(OUTSIDE)},localAddress:${JSON.stringify(zones.one.lease.ipv4)}});c.on('data',d=>{process.stdout.write(d);process.exit(0)});c.on('error',()=>process.exit(2));setTimeout(()=>process.exit(3),2000);`;
    const r = spawnSync('nsenter', ['-t', String(zones.two.pid), '-n', process.execPath, '-e', js], { encoding: 'utf8', timeout: 10_000 });
    expect(r.status).not.toBe(0);
    inNs(zones.two.pid, 'ip', 'addr', 'del', `${zones.one.lease.ipv4}/32`, 'dev', 'eth0');
  });

  it('the outside cannot open a connection into a zone; zones still reach each other', async () => {
    await serve(zones.two.pid);
    expect(tryFetch(outside, zones.two.lease.ipv4)).toBeNull();
    expect(tryFetch(zones.one.pid, zones.two.lease.ipv4)).toBe(`peer=${zones.one.lease.ipv4}`);
    inNs(outside, 'ip', 'route', 'del', bridge.subnet);
  });

  it("detaching the zone takes its address out; removing the bridge removes the table", async () => {
    await detachZone('one', bridge, zones.one.lease.ipv4);
    expect(await outboundAllowed(bridge, zones.one.lease.ipv4)).toBe(false);
    expect(execFileSync('nft', ['list', 'table', 'ip', 'lxzone_lxzt40o']).toString()).not.toContain(zones.one.lease.ipv4);
    await removeBridge(bridge, { force: true });
    expect(execFileSync('nft', ['list', 'tables']).toString()).not.toContain('lxzone_lxzt40o');
    // Forwarding is back to what it was before lxzone turned it on, unless another lxzone bridge (another test's) has a table.
    if (!/table ip lxzone_/.test(execFileSync('nft', ['list', 'tables']).toString())) {
      expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim()).toBe(forwardBefore);
    }
  });
});
