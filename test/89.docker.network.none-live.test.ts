// A running container without a network joins one and leaves it again,
// through the real docker client (Debian's, API 1.41), with no stop: a
// `--network none` container (loopback only; its /etc/resolv.conf the host's
// nameservers less the loopback ones, as dockerd writes it) connected live
// gets eth0 with a lasting address, its network's DNS server in resolv.conf
// at once, and reaches a peer by name; further interfaces are numbered as
// dockerd numbers them (one past the highest the container has had: a name
// is never re-used while it runs, eth0 … eth2); leaving its last network
// takes it back to loopback only with the host's nameservers, as a
// container with no network has.
// `docker network disconnect none C` (dockerd's way before a connect) is
// taken.
// Nothing left behind.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { vethNames } from '../src/zone/network/addressing.js';
import { useDocker } from './support/docker.js';
import { expectBridgesGone, hostServers, links, lookFrom, netHelpers } from './support/docker-nets.js';
import { waitFor } from './support/lifecycle-env.js';

const { env, docker, ok, run, up } = useDocker(47);
const { netsOf, createNets, gateways, serve, debian, path } = netHelpers(docker);
const look = lookFrom(docker);

describe('docker network connect/disconnect of a running container without a network', () => {
  it('joins a first network live, numbers interfaces as dockerd, and is back to no network with the host\'s nameservers', async () => {
    await up();
    const [brA, brB] = await createNets('nl-a', 'nl-b');
    const gw = async (n: string) => {
      const { v4, v6 } = await gateways(n);
      return [v4, v6];
    };
    const [gwA, gwB] = [await gw('nl-a'), await gw('nl-b')];
    await ok(['run', '-d', '--name', 'nl-peer', '--network', 'nl-a', ...serve]);
    await ok(['run', '-d', '--name', 'nl-lone', '--network', 'none', ...serve]);
    const peerIp = (await netsOf('nl-peer'))['nl-a']!.IPAddress;

    // No network: loopback only; the host's nameservers (as dockerd's --network none).
    let seen = await look('nl-lone');
    expect(seen.ifs).toEqual(['lo']);
    expect(seen.servers).toEqual(hostServers);

    // Connected while running: eth0 at once, its lasting address, the network's DNS server; the peer by name.
    await ok(['network', 'connect', 'nl-a', 'nl-lone']);
    const a = (await netsOf('nl-lone'))['nl-a']!;
    expect(a.IPAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(Object.keys(await netsOf('nl-lone'))).toEqual(['nl-a']);
    expect(await waitFor(async () => (seen = await look('nl-lone', 'nl-peer', `http://nl-peer:8080${path}`)).got === debian, 60_000, 500), JSON.stringify(seen)).toBe(true);
    expect(seen).toEqual({ ifs: ['eth0', 'lo'], servers: gwA, addr: peerIp, got: debian });

    // Interface names as dockerd gives them: eth1, then (eth1 gone) eth2, never eth1 again while it runs.
    await ok(['network', 'connect', 'nl-b', 'nl-lone']);
    expect((await look('nl-lone')).ifs).toEqual(['eth0', 'eth1', 'lo']);
    await ok(['network', 'disconnect', 'nl-b', 'nl-lone']);
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

    // Nothing left: containers (their resolv.conf with their state), bridges, veths, nftables tables, leases.
    await ok(['rm', '-f', 'nl-lone', 'nl-peer']);
    await ok(['network', 'rm', 'nl-a', 'nl-b']);
    expectBridgesGone([brA, brB], ['nl-lone', 'nl-peer']);
    expect(existsSync(join(env.stateDir, 'zones', 'nl-lone'))).toBe(false);
    expect(await ok(['ps', '-aq'])).toBe('');
  });
});
