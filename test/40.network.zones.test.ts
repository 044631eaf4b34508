// Two stand-in zones (a `sleep` in its own network namespace each) on a test
// bridge: they get their leased addresses, talk TCP to each other and to the
// host on the same port number over IPv4 and IPv6, keep their address across a
// "reboot" (a new namespace, a fresh IPAM instance), have no route outside
// unless asked, and leave nothing behind on the host after detach + removal.
import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  attachZone,
  detachZone,
  ensureBridge,
  Ipam,
  removeBridge,
  resolveBridge,
  vethNames,
  type Lease,
} from '../src/zone/network/index.js';

const PORT = 18080;
// Zones reach the host only on ports allowed explicitly (test/43 shows the rest is dropped).
const bridge = { name: 'lxzt40', subnet: '10.214.40.0/24', hostPorts: [`tcp/${PORT}`] };
const stateDir = mkdtempSync(join(tmpdir(), 'lxzone-net-'));
const sleepers: ChildProcess[] = [];

/** A stand-in zone: its own network namespace, held by a sleeping process (unshare execs sleep: same pid). */
function standInZone(): number {
  const child = spawn('unshare', ['--net', 'sleep', '60'], { stdio: 'ignore' });
  sleepers.push(child);
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

function inZone(pid: number, ...cmd: string[]): string {
  return execFileSync('nsenter', ['-t', String(pid), '-n', ...cmd], { timeout: 15_000 }).toString();
}

/** A one-shot TCP server in the zone's netns on [::]:PORT (dual stack) answering `reply` to `count` clients. */
function serveIn(pid: number, reply: string, count: number): Promise<ChildProcess> {
  const js = `const net=require('net');let n=0;const s=net.createServer(c=>{c.end(${JSON.stringify(reply)});if(++n===${count})s.close();});
    s.listen(${PORT},'::',()=>console.log('ready'));setTimeout(()=>process.exit(3),20000).unref();`;
  const child = spawn('nsenter', ['-t', String(pid), '-n', process.execPath, '-e', js], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((res, rej) => {
    child.stdout!.once('data', () => res(child));
    child.once('exit', (code) => rej(new Error(`server in ${pid} exited ${code}`)));
  });
}

/** Connect from `pid`'s netns (or the host when pid is 0) to host:PORT, return what the server said. */
function fetchFrom(pid: number, host: string): string {
  const js = `const c=require('net').connect(${PORT},${JSON.stringify(host)});let d='';c.on('data',b=>d+=b);
    c.on('end',()=>{process.stdout.write(d)});c.on('error',e=>{console.error(e.message);process.exit(2)});setTimeout(()=>process.exit(4),10000).unref();`;
  const args = [process.execPath, '-e', js];
  return pid === 0 ? execFileSync(args[0], args.slice(1), { timeout: 15_000 }).toString() : inZone(pid, ...args);
}

function hostLinks(): string[] {
  return JSON.parse(execFileSync('ip', ['-j', 'link', 'show']).toString()).map((l: { ifname: string }) => l.ifname);
}

beforeAll(async () => {
  // A previous aborted run may have left the test bridge behind.
  await removeBridge(bridge, { force: true });
});

afterAll(async () => {
  for (const s of sleepers) s.kill('SIGKILL');
  await detachZone('alpha', bridge).catch(() => {});
  await detachZone('beta', bridge).catch(() => {});
  await removeBridge(bridge, { force: true }).catch(() => {});
  rmSync(stateDir, { recursive: true, force: true });
});

describe('zone network', () => {
  let ipam: Ipam;
  const pids: Record<string, number> = {};
  const leases: Record<string, Lease> = {};

  it('creates the bridge on first use with the gateway addresses, idempotently', async () => {
    const br = await ensureBridge(bridge);
    await ensureBridge(bridge); // second call: no error, no duplicate
    const addrs = JSON.parse(execFileSync('ip', ['-j', 'addr', 'show', 'dev', bridge.name]).toString())[0].addr_info;
    const locals = addrs.map((a: { local: string; prefixlen: number }) => `${a.local}/${a.prefixlen}`);
    expect(locals).toContain('10.214.40.1/24');
    expect(locals).toContain(`${br.gateway6}/64`);
  });

  it('refuses a subnet overlapping a host interface', async () => {
    await expect(ensureBridge({ name: 'lxzt40x', subnet: '10.214.40.128/25' })).rejects.toThrow(/overlaps 10.214.40.1\/24 on lxzt40/);
    expect(hostLinks()).not.toContain('lxzt40x');
  });

  it('attaches two zones with their leased addresses and no route outside', async () => {
    ipam = new Ipam({ stateDir, bridge });
    for (const z of ['alpha', 'beta']) {
      pids[z] = standInZone();
      await waitNetns(pids[z]);
      leases[z] = await ipam.allocate(z);
      const att = await attachZone({ zoneName: z, pid: pids[z], address: leases[z], bridge });
      expect(att.hostIfname).toBe(vethNames(bridge.name, z).host);
      const eth0 = JSON.parse(inZone(pids[z], 'ip', '-j', 'addr', 'show', 'dev', 'eth0'))[0];
      const locals = eth0.addr_info.map((a: { local: string }) => a.local);
      expect(locals).toContain(leases[z].ipv4);
      expect(locals).toContain(leases[z].ipv6);
      expect(eth0.operstate).toBe('UP');
      expect(inZone(pids[z], 'ip', 'route', 'show', 'default').trim()).toBe('');
      expect(inZone(pids[z], 'ip', '-6', 'route', 'show', 'default').trim()).toBe('');
    }
    const ports = JSON.parse(execFileSync('ip', ['-j', 'link', 'show', 'master', bridge.name]).toString());
    expect(ports.map((p: { ifname: string }) => p.ifname).sort()).toEqual(
      [vethNames(bridge.name, 'alpha').host, vethNames(bridge.name, 'beta').host].sort(),
    );
  });

  it('zones talk TCP to each other and the host by address, both listening on the same port', async () => {
    const a = await serveIn(pids.alpha, 'from-alpha', 3);
    const b = await serveIn(pids.beta, 'from-beta', 3);
    try {
      expect(fetchFrom(pids.alpha, leases.beta.ipv4)).toBe('from-beta');
      expect(fetchFrom(pids.beta, leases.alpha.ipv4)).toBe('from-alpha');
      expect(fetchFrom(pids.alpha, leases.beta.ipv6)).toBe('from-beta');
      expect(fetchFrom(pids.beta, leases.alpha.ipv6)).toBe('from-alpha');
      expect(fetchFrom(0, leases.alpha.ipv4)).toBe('from-alpha'); // host -> zone
      expect(fetchFrom(0, leases.beta.ipv6)).toBe('from-beta');
    } finally {
      a.kill();
      b.kill();
    }
    // zone -> host by the bridge address
    const br = resolveBridge(bridge);
    const host = spawn(process.execPath, ['-e', `const s=require('net').createServer(c=>{c.end('from-host');s.close()});s.listen(${PORT},'${br.gateway4}',()=>console.log('ready'))`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise((r) => host.stdout!.once('data', r));
    expect(fetchFrom(pids.beta, br.gateway4)).toBe('from-host');
  });

  it('adds default routes via the bridge only when asked', async () => {
    const pid = standInZone();
    await waitNetns(pid);
    const lease = await ipam.allocate('gamma');
    await attachZone({ zoneName: 'gamma', pid, address: lease, bridge, defaultRoute: true });
    expect(inZone(pid, 'ip', 'route', 'show', 'default')).toContain('via 10.214.40.1');
    expect(inZone(pid, 'ip', '-6', 'route', 'show', 'default')).toContain(`via ${lease.gateway6}`);
    expect(await detachZone('gamma', bridge)).toBe(true);
    expect(await ipam.release('gamma')).toBe(true);
  });

  it('a rebooted zone (new namespace, fresh IPAM) gets the same address and interface', async () => {
    const old = vethNames(bridge.name, 'alpha').host;
    sleepers.find((s) => s.pid === pids.alpha)!.kill('SIGKILL');
    for (let i = 0; i < 100 && hostLinks().includes(old); i++) await new Promise((r) => setTimeout(r, 20));
    expect(hostLinks()).not.toContain(old); // the kernel drops the pair with the namespace
    pids.alpha = standInZone();
    await waitNetns(pids.alpha);
    const lease = await new Ipam({ stateDir, bridge }).allocate('alpha');
    expect(lease.ipv4).toBe(leases.alpha.ipv4);
    await attachZone({ zoneName: 'alpha', pid: pids.alpha, address: lease, bridge });
    const b = await serveIn(pids.beta, 'beta-again', 1);
    try {
      expect(fetchFrom(pids.alpha, leases.beta.ipv4)).toBe('beta-again');
    } finally {
      b.kill();
    }
  });

  it('refuses to remove a bridge with zones attached unless forced', async () => {
    await expect(removeBridge(bridge)).rejects.toThrow(/still has zones attached/);
  });

  it('detach + bridge removal leave no veth, bridge or address behind', async () => {
    expect(await detachZone('alpha', bridge)).toBe(true);
    expect(await detachZone('beta', bridge)).toBe(true);
    expect(await detachZone('beta', bridge)).toBe(false);
    expect(inZone(pids.beta, 'ip', '-j', 'link', 'show')).not.toContain('eth0');
    expect(await removeBridge(bridge)).toBe(true);
    const links = hostLinks();
    for (const z of ['alpha', 'beta', 'gamma']) {
      expect(links).not.toContain(vethNames(bridge.name, z).host);
      expect(links).not.toContain(vethNames(bridge.name, z).peer);
    }
    expect(links).not.toContain(bridge.name);
    expect(execFileSync('ip', ['addr', 'show']).toString()).not.toContain('10.214.40.');
    expect(execFileSync('ip', ['-6', 'route', 'show']).toString()).not.toContain(resolveBridge(bridge).ipv6Prefix);
    // The store still holds the leases: only destroy (release) gives an address up.
    expect((await ipam.list()).map((l) => l.zone)).toEqual(['alpha', 'beta']);
  });
});
