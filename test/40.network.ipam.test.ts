// IPAM: leases persist in the store across fresh instances (a daemon restart),
// static addresses are honoured or refused clearly, and two processes
// allocating at once never hand out the same address.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Ipam, resolveBridge, vethNames, zoneMac } from '../src/zone/network/index.js';

const dir = mkdtempSync(join(tmpdir(), 'lxzone-ipam-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const bridge = { name: 'lxzt40i', subnet: '10.214.41.0/24' };

describe('addressing', () => {
  it('derives a stable ULA /64 and interface names within IFNAMSIZ', () => {
    const a = resolveBridge(bridge);
    expect(a.ipv6Prefix).toMatch(/^fd[0-9a-f]{2}:[0-9a-f]{1,4}:[0-9a-f]{1,4}::\/64$/);
    expect(resolveBridge(bridge).ipv6Prefix).toBe(a.ipv6Prefix);
    expect(resolveBridge({ ...bridge, name: 'other0' }).ipv6Prefix).not.toBe(a.ipv6Prefix);
    expect(a.gateway4).toBe('10.214.41.1');
    const n = vethNames('lxzone0', 'a-very-long-zone-name-that-would-not-fit');
    expect(n.host.length).toBeLessThanOrEqual(15);
    expect(n.peer.length).toBeLessThanOrEqual(15);
    expect(vethNames('lxzone0', 'web').host).not.toBe(vethNames('lxzone0', 'db').host);
    expect(zoneMac('lxzone0', 'web')).toMatch(/^02(:[0-9a-f]{2}){5}$/);
  });

  it('refuses a subnet with host bits set, naming the field', () => {
    expect(() => resolveBridge({ subnet: '10.214.41.7/24' })).toThrow(/network.subnet: 10.214.41.7\/24 has host bits set/);
  });
});

describe('Ipam', () => {
  it('keeps a zone its address across fresh instances until release', async () => {
    const d = join(dir, 'persist');
    const a = await new Ipam({ stateDir: d, bridge }).allocate('web');
    const b = await new Ipam({ stateDir: d, bridge }).allocate('db');
    expect(a.ipv4).not.toBe(b.ipv4);
    expect(a.ipv4.startsWith('10.214.41.')).toBe(true);
    expect(a.ipv6.startsWith(resolveBridge(bridge).ipv6Prefix.replace('::/64', ':'))).toBe(true);
    // A "restarted daemon": a new instance reading the same store.
    const again = await new Ipam({ stateDir: d, bridge }).allocate('web');
    expect(again.ipv4).toBe(a.ipv4);
    expect(again.ipv6).toBe(a.ipv6);
    expect(again.since).toBe(a.since);
    const ipam = new Ipam({ stateDir: d, bridge });
    expect((await ipam.list()).map((l) => l.zone)).toEqual(['db', 'web']);
    expect(await ipam.release('web')).toBe(true);
    expect(await ipam.release('web')).toBe(false);
    expect(await ipam.get('web')).toBeUndefined();
    // Next-fit: the released address is not handed to the next zone at once.
    const c = await ipam.allocate('cache');
    expect(c.ipv4).not.toBe(a.ipv4);
    expect(c.ipv4).not.toBe(b.ipv4);
  });

  describe('a full subnet (/29: five addresses, .2 to .6)', () => {
    const small = { name: 'lxzt40s', subnet: '10.214.42.0/29' };
    const unique = async (ipam: Ipam) => {
      const leases = await ipam.list();
      expect(new Set(leases.map((l) => l.ipv4)).size).toBe(leases.length);
      expect(new Set(leases.map((l) => l.ipv6)).size).toBe(leases.length);
      return leases;
    };

    it('hands out every address once, then refuses with EADDRNOTAVAIL and records nothing', async () => {
      const ipam = new Ipam({ stateDir: join(dir, 'full'), bridge: small });
      const got = [];
      for (const z of ['z1', 'z2', 'z3', 'z4', 'z5']) got.push((await ipam.allocate(z)).ipv4.split('/')[0]);
      expect(got.sort()).toEqual(['10.214.42.2', '10.214.42.3', '10.214.42.4', '10.214.42.5', '10.214.42.6']);
      await unique(ipam);
      await expect(ipam.allocate('z6')).rejects.toMatchObject({ code: 'EADDRNOTAVAIL', message: expect.stringMatching(/no free address \(5 leases\)/) });
      expect(await ipam.get('z6')).toBeUndefined();
      expect((await ipam.list()).length).toBe(5);
      // A static request for a held address names its holder, even when full.
      await expect(ipam.allocate('z6', '10.214.42.4')).rejects.toThrow(/z[1-5]/);
    });

    it('wraps around past the last address to the first free one, never to a held one', async () => {
      const ipam = new Ipam({ stateDir: join(dir, 'wrap'), bridge: small });
      for (const z of ['a', 'b', 'c', 'd', 'e']) await ipam.allocate(z);
      const first = (await ipam.get('a'))!.ipv4;
      const third = (await ipam.get('c'))!.ipv4;
      // The cursor is at the last address: the next search wraps to the start.
      await ipam.release('c');
      const f = await ipam.allocate('f');
      expect(f.ipv4).toBe(third);
      await ipam.release('a');
      const g = await ipam.allocate('g');
      expect(g.ipv4).toBe(first);
      await unique(ipam);
      // Many rounds of release and allocate: never two zones on one address.
      const live = ['b', 'd', 'e', 'f', 'g'];
      for (let round = 0; round < 12; round++) {
        const out = live.splice(round % live.length, 1)[0]!;
        await ipam.release(out);
        const name = `r${round}`;
        await ipam.allocate(name);
        live.push(name);
        const leases = await unique(ipam);
        expect(leases.length).toBe(5);
      }
    });
  });

  it('honours a static address and refuses it to a second zone', async () => {
    const ipam = new Ipam({ stateDir: join(dir, 'static'), bridge });
    const s = await ipam.allocate('one', '10.214.41.77');
    expect(s).toMatchObject({ ipv4: '10.214.41.77', static: true });
    expect((await ipam.allocate('one', '10.214.41.77')).ipv4).toBe('10.214.41.77');
    expect((await ipam.allocate('one', '10.214.41.77/24')).ipv4).toBe('10.214.41.77'); // the config's CIDR form
    await expect(ipam.allocate('two', '10.214.41.78/16')).rejects.toThrow(/has prefix \/16, but bridge lxzt40i uses 10.214.41.0\/24/);
    await expect(ipam.allocate('two', '10.214.41.77/24')).rejects.toThrow('address 10.214.41.77 is already taken by zone one');
    await expect(ipam.allocate('two', '10.214.41.77')).rejects.toThrow('address 10.214.41.77 is already taken by zone one');
    await expect(ipam.allocate('one', '10.214.41.78')).rejects.toThrow(/zone one already holds 10.214.41.77/);
    await expect(ipam.allocate('two', '10.214.42.5')).rejects.toThrow(/outside the subnet 10.214.41.0\/24/);
    await expect(ipam.allocate('two', '10.214.41.1')).rejects.toThrow(/bridge's own address/);
    await expect(ipam.allocate('two', '10.214.41.255')).rejects.toThrow(/broadcast address/);
    await expect(ipam.allocate('../x')).rejects.toThrow(/zone name/);
    // A dynamic allocation never lands on the static one.
    for (let i = 0; i < 80; i++) expect((await ipam.allocate(`z${i}`)).ipv4).not.toBe('10.214.41.77');
  });

  it('refuses to renumber zones when the subnet changes under existing leases', async () => {
    const d = join(dir, 'renumber');
    await new Ipam({ stateDir: d, bridge }).allocate('web');
    await expect(new Ipam({ stateDir: d, bridge: { ...bridge, subnet: '10.214.43.0/24' } }).allocate('web')).rejects.toThrow(
      /has leases in 10.214.41.0\/24/,
    );
  });

  it('reports a corrupt store by file name', async () => {
    const d = join(dir, 'corrupt');
    const ipam = new Ipam({ stateDir: d, bridge });
    await ipam.allocate('web');
    writeFileSync(ipam.storePath, '{"version":1, "leases": ');
    await expect(ipam.get('web')).rejects.toThrow(`${ipam.storePath}: not valid JSON`);
  });

  it('breaks a stale lock left by a dead process', async () => {
    const d = join(dir, 'stale');
    const ipam = new Ipam({ stateDir: d, bridge, lockTimeoutMs: 2000 });
    await ipam.allocate('first');
    writeFileSync(`${ipam.storePath}.lock`, '999999999 12345\n'); // no such pid
    expect((await ipam.allocate('second')).ipv4).toMatch(/^10\.214\.41\./);
  });

  it('two processes allocating at once never share an address', async () => {
    const d = join(dir, 'race');
    const script = `
      import { Ipam } from ${JSON.stringify(resolve('src/zone/network/ipam.ts'))};
      const ipam = new Ipam({ stateDir: process.argv[1], bridge: ${JSON.stringify(bridge)} });
      const out = [];
      for (let i = 0; i < 25; i++) out.push((await ipam.allocate(process.argv[2] + i)).ipv4);
      console.log(JSON.stringify(out));`;
    const runOne = (prefix: string) =>
      new Promise<string[]>((res, rej) => {
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, d, prefix], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let out = '';
        child.stdout.on('data', (b) => (out += b));
        child.on('close', (code) => (code === 0 ? res(JSON.parse(out)) : rej(new Error(`child exit ${code}`))));
      });
    const [a, b] = await Promise.all([runOne('a'), runOne('b')]);
    const all = [...a, ...b];
    expect(all).toHaveLength(50);
    expect(new Set(all).size).toBe(50);
    const store = JSON.parse(readFileSync(join(d, 'ipam-lxzt40i.json'), 'utf8'));
    expect(Object.keys(store.leases)).toHaveLength(50);
  });
});
