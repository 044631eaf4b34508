// A running container without a network joins one and leaves it again,
// through the real docker client (Debian's, API 1.41), with no stop: a
// `--network none` container (loopback only; its /etc/resolv.conf the host's
// nameservers less the loopback ones, as dockerd writes it) connected live
// gets eth0 with a lasting address, its network's DNS server in resolv.conf
// at once, and reaches a peer by name; further interfaces are numbered as
// dockerd numbers them (one past the highest the container has had: a name
// is never re-used while it runs, eth0 … eth2); leaving its last network
// takes it back to loopback only with the host's nameservers, as a
// container with no network has, and so it stays across a restart.
// `docker network disconnect none C` (dockerd's way before a connect) is
// taken. A default-bridge container's resolv.conf is the host's too;
// --dns is refused (not applied).
// Nothing left behind.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { vethNames } from '../src/zone/network/addressing.js';
import { dockerClient } from './support/docker.js';
import { links, netHelpers, nftTables } from './support/docker-nets.js';
import { useLifecycleEnv, waitFor } from './support/lifecycle-env.js';

const env = useLifecycleEnv(47);
const docker = dockerClient(env);
const { ok, run } = docker;
const { netsOf, bridgeOf, serve, debian, path } = netHelpers(docker);

/** What a container off user-defined networks names, worked out here from the host's file as dockerd does. */
const hostServers = (() => {
  const text = existsSync('/etc/resolv.conf') ? readFileSync('/etc/resolv.conf', 'utf8') : '';
  const kept = [...text.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1]!).filter((s) => !s.startsWith('127.') && !s.includes(':'));
  return kept.length ? kept : ['8.8.8.8', '8.8.4.4'];
})();
const nameservers = (conf: string) => [...conf.matchAll(/^nameserver\s+(\S+)/gm)].map((m) => m[1]);

/** From inside container `c` (one exec): its interfaces with an address, its resolv.conf's servers, `name` looked up through
 *  resolv.conf (getaddrinfo, as any program), and an HTTP GET of `url` (the body, or null). */
const LOOK = `const [name,url]=process.argv.slice(1);const fs=require('fs');Promise.all([name?require('dns').promises.lookup(name,{family:4}).then(a=>a.address,e=>e.code):null,url?new Promise(res=>{require('http').get(url,{timeout:3000},r=>{let b='';r.on('data',c=>b+=c);r.on('end',()=>res(b))}).on('timeout',function(){this.destroy();res(null)}).on('error',()=>res(null))}):null]).then(([addr,got])=>console.log(JSON.stringify({ifs:Object.keys(require('os').networkInterfaces()).sort(),conf:fs.readFileSync('/etc/resolv.conf','utf8'),addr,got})))`;
const look = async (c: string, name = '', url = '') => {
  const r = JSON.parse(await ok(['exec', c, process.execPath, '-e', LOOK, name, url])) as { ifs: string[]; conf: string; addr: string | null; got: string | null };
  return { ifs: r.ifs, servers: nameservers(r.conf), addr: r.addr, got: r.got };
};

describe('docker network connect/disconnect of a running container without a network', () => {
  it('joins a first network live, numbers interfaces as dockerd, and is back to no network with the host\'s nameservers', async () => {
    await env.ok(['list']); // the daemon, which serves docker.sock
    expect(await waitFor(async () => (await run(['version'])).code === 0, 60_000, 200)).toBe(true);
    await ok(['network', 'create', 'nl-a']);
    await ok(['network', 'create', 'nl-b']);
    const gw = async (n: string) => {
      const cfg = JSON.parse(await ok(['network', 'inspect', n]))[0].IPAM.Config as { Subnet: string; Gateway: string }[];
      return [cfg.find((c) => !c.Subnet.includes(':'))!.Gateway, cfg.find((c) => c.Subnet.includes(':'))!.Gateway];
    };
    const [gwA, gwB] = [await gw('nl-a'), await gw('nl-b')];
    const [brA, brB] = [await bridgeOf('nl-a'), await bridgeOf('nl-b')];
    await ok(['run', '-d', '--name', 'nl-peer', '--network', 'nl-a', ...serve]);
    await ok(['run', '-d', '--name', 'nl-lone', '--network', 'none', ...serve]);
    const peerIp = (await netsOf('nl-peer'))['nl-a']!.IPAddress;

    // No network: loopback only; the host's nameservers (as dockerd's --network none); on the default bridge the same.
    let seen = await look('nl-lone');
    expect(seen.ifs).toEqual(['lo']);
    expect(seen.servers).toEqual(hostServers);
    expect(nameservers(await ok(['run', '--rm', 'host', 'cat', '/etc/resolv.conf']))).toEqual(hostServers);
    // --dns is not applied here: refused, naming the flag, rather than ignored.
    expect((await run(['run', '--rm', '--dns', '192.0.2.53', 'host', 'true'])).stderr).toMatch(/--dns is not supported/);

    // Connected while running: eth0 at once, its lasting address, the network's DNS server; the peer by name.
    await ok(['network', 'connect', 'nl-a', 'nl-lone']);
    const a = (await netsOf('nl-lone'))['nl-a']!;
    expect(a.IPAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(Object.keys(await netsOf('nl-lone'))).toEqual(['nl-a']);
    expect(await waitFor(async () => (seen = await look('nl-lone', 'nl-peer', `http://nl-peer:8080${path}`)).got === debian, 60_000, 500), JSON.stringify(seen)).toBe(true);
    expect(seen).toEqual({ ifs: ['eth0', 'lo'], servers: gwA, addr: peerIp, got: debian });
    // And the peer reaches it at its address.
    expect((await look('nl-peer', '', `http://${a.IPAddress}:8080${path}`)).got).toBe(debian);

    // Interface names as dockerd gives them: eth1, then (eth1 gone) eth2, never eth1 again while it runs.
    await ok(['network', 'connect', 'nl-b', 'nl-lone']);
    expect((await look('nl-lone')).ifs).toEqual(['eth0', 'eth1', 'lo']);
    await ok(['network', 'disconnect', 'nl-b', 'nl-lone']);
    expect((await look('nl-lone')).ifs).toEqual(['eth0', 'lo']);
    await ok(['network', 'connect', 'nl-b', 'nl-lone']);
    expect((await look('nl-lone')).ifs).toEqual(['eth0', 'eth2', 'lo']);

    // Leaving the first network: nl-b is the first (its DNS server); leaving the last: loopback and the host's nameservers.
    await ok(['network', 'disconnect', 'nl-a', 'nl-lone']);
    seen = await look('nl-lone');
    expect([seen.ifs, seen.servers]).toEqual([['eth2', 'lo'], gwB]);
    await ok(['network', 'disconnect', 'nl-b', 'nl-lone']);
    seen = await look('nl-lone');
    expect([seen.ifs, seen.servers]).toEqual([['lo'], hostServers]);
    expect(Object.keys(await netsOf('nl-lone'))).toEqual(['none']);
    for (const br of [brA, brB]) expect(links()).not.toContain(vethNames(br, 'nl-lone').host);
    // dockerd's way before a connect: leave none (here: nothing to do); a network it is not on is still refused.
    await ok(['network', 'disconnect', 'none', 'nl-lone']);
    expect((await run(['network', 'disconnect', 'nl-a', 'nl-lone'])).stderr).toMatch(/is not connected to network nl-a/);

    // So it stays across a restart.
    await ok(['restart', '-t', '1', 'nl-lone']);
    seen = await look('nl-lone');
    expect([seen.ifs, seen.servers]).toEqual([['lo'], hostServers]);

    // Nothing left: containers (their resolv.conf with their state), bridges, veths, nftables tables, leases.
    await ok(['rm', '-f', 'nl-lone', 'nl-peer']);
    await ok(['network', 'rm', 'nl-a', 'nl-b']);
    for (const br of [brA, brB]) {
      expect(links()).not.toContain(`${br}:`);
      expect(nftTables()).not.toMatch(new RegExp(`lxzone_(host_)?${br}\\b`));
      for (const c of ['nl-lone', 'nl-peer']) expect(links()).not.toContain(vethNames(br, c).host);
    }
    expect(existsSync(join(env.stateDir, 'zones', 'nl-lone'))).toBe(false);
    expect(await ok(['ps', '-aq'])).toBe('');
  });
});
