// Several networks from create, and the embedded DNS as a container on them
// sees it, through the real docker client (Debian's, API 1.41):
// `docker run --network A --network B` gives eth0 on A and eth1 on B, each
// with its lasting address; the zone's resolv.conf names its first
// network's server at the gateway's IPv4 and IPv6 addresses, and the server
// answers on both; a `docker rename` renames the container in DNS (the old
// name no longer answers); leaving the first network while running makes
// resolv.conf name the next one's server at once. Nothing left behind.
import { describe, expect, it } from 'vitest';
import { vethNames } from '../src/zone/network/addressing.js';
import { useDocker } from './support/docker.js';
import { expectBridgesGone, links, netHelpers } from './support/docker-nets.js';
import { waitFor } from './support/lifecycle-env.js';

const { docker, ok, run, up } = useDocker(52);
const { netsOf, createNets, gateways, serve } = netHelpers(docker);

/** In container `c` (one exec: each costs seconds on a loaded host): its resolv.conf, and each [server, name]'s IPv4 answer (or the error code). */
const lookups = async (c: string, asks: [string, string][]) => {
  const script = `const {Resolver}=require('dns').promises;const fs=require('fs');(async()=>{const got=[];for(const [s,n] of ${JSON.stringify(asks)}){const r=new Resolver({timeout:3000,tries:2});r.setServers([s]);got.push(await r.resolve4(n).then(a=>a.join(','),e=>e.code))}console.log(JSON.stringify({conf:fs.readFileSync('/etc/resolv.conf','utf8'),got}))})()`;
  return JSON.parse(await ok(['exec', c, process.execPath, '-e', script])) as { conf: string; got: string[] };
};
const nameservers = (conf: string) => [...conf.matchAll(/^nameserver\s+(\S+)/gm)].map((m) => m[1]);

describe('docker run with several networks, and their DNS', () => {
  it('puts the container on each, serves DNS on IPv4 and IPv6, follows renames and a first network left', async () => {
    await up();
    const [brA, brB] = await createNets('cm-a', 'cm-b');
    const [gwA, gwB] = [await gateways('cm-a'), await gateways('cm-b')];

    // Two --network at create: both endpoints, the first one's eth0, the other's eth1.
    await ok(['run', '-d', '--name', 'two', '--network', 'cm-a', '--network', 'cm-b', ...serve]);
    await ok(['run', '-d', '--name', 'peer', '--network', 'cm-b', ...serve]);
    const nets = await netsOf('two');
    expect(Object.keys(nets)).toEqual(['cm-a', 'cm-b']);
    for (const n of Object.values(nets)) {
      expect(n.IPAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(n.GlobalIPv6Address).toMatch(/^fd[0-9a-f:]+$/);
    }
    expect(links()).toContain(vethNames(brA, 'two').host);
    expect(links()).toContain(vethNames(brB, 'two').host);
    const peerIp = (await netsOf('peer'))['cm-b']!.IPAddress;
    // The client's refusals stay: the same network twice is no second endpoint.
    expect((await run(['create', '--network', 'cm-a', '--network', 'cm-a', 'host', 'true'])).code).not.toBe(0);

    // resolv.conf: the first network's server, IPv4 and IPv6; both answer (peer through cm-a's server: two is on cm-b too).
    let seen = await lookups('two', [[gwA.v4, 'peer'], [gwA.v6, 'peer'], [gwB.v6, 'peer']]);
    expect(nameservers(seen.conf)).toEqual([gwA.v4, gwA.v6]);
    expect(seen.got).toEqual([peerIp, peerIp, peerIp]);

    // A rename renames it in DNS: the new name answers, the old one no longer does (the tables live a second).
    await ok(['rename', 'peer', 'pal']);
    expect(await waitFor(async () => (seen = await lookups('two', [[gwB.v4, 'pal'], [gwB.v6, 'peer']])).got.join() === `${peerIp},ENOTFOUND`, 60_000, 1000), JSON.stringify(seen)).toBe(true);

    // Leaving the first network while running: resolv.conf names cm-b's server at once, which answers.
    await ok(['network', 'disconnect', 'cm-a', 'two']);
    seen = await lookups('two', [[gwB.v4, 'pal'], [gwB.v6, 'two']]);
    expect(nameservers(seen.conf)).toEqual([gwB.v4, gwB.v6]);
    expect(seen.got).toEqual([peerIp, nets['cm-b']!.IPAddress]);
    expect(links()).not.toContain(vethNames(brA, 'two').host);

    // Nothing left: containers, bridges, veths, nftables tables.
    await ok(['rm', '-f', 'two', 'pal']);
    await ok(['network', 'rm', 'cm-a', 'cm-b']);
    expectBridgesGone([brA, brB], ['two', 'peer']);
    expect(await ok(['ps', '-aq'])).toBe('');
  });
});
