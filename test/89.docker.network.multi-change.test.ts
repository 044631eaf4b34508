// A container's networks changing through the real docker client: an
// address on each network kept across a restart (with eth1 again),
// `network inspect` naming it by its Docker name after a rename, `network
// disconnect` of a running container removing its interface, veth and port
// table at once (and its name from that network's DNS), a connect while
// stopped, and leaving its first network while running making the other its
// first (default route through it). Nothing left behind.
import { describe, expect, it } from 'vitest';
import { vethNames } from '../src/zone/network/addressing.js';
import { useDocker } from './support/docker.js';
import { expectBridgesGone, expectNoNetworkRecords, links, netHelpers, nftTables } from './support/docker-nets.js';
import { waitFor } from './support/lifecycle-env.js';

const { env, docker, ok, run, up } = useDocker(70);
const { netsOf, createNets, namesOn, probe, serve, debian, path } = netHelpers(docker);

describe('docker network connect/disconnect over a container\'s life', () => {
  it('keeps addresses across restart, removes interfaces live, moves the first network', async () => {
    await up();
    const [red, blue] = await createNets('c-red', 'c-blue');
    await ok(['run', '-d', '--name', 'bweb', '--network', 'c-blue', ...serve]);
    await ok(['run', '-d', '--name', 'mover', '--network', 'c-red', ...serve]);
    const bweb = (await netsOf('bweb'))['c-blue']!;
    await ok(['network', 'connect', '--alias', 'bee', 'c-blue', 'mover']);
    const nets = await netsOf('mover');

    // Kept across a restart: the same addresses on both networks, eth1 again; named by its Docker name after a rename.
    await ok(['rename', 'mover', 'moved']);
    await ok(['restart', '-t', '1', 'moved']);
    const again = await netsOf('moved');
    expect(again['c-red']!.IPAddress).toBe(nets['c-red']!.IPAddress);
    expect(again['c-blue']!.IPAddress).toBe(nets['c-blue']!.IPAddress);
    expect(again['c-blue']!.GlobalIPv6Address).toBe(nets['c-blue']!.GlobalIPv6Address);
    expect(await namesOn('c-blue')).toEqual(['bweb', 'moved']);
    let seen = { ifs: [] as string[], got: [] as (string | null)[] };
    expect(await waitFor(async () => (seen = await probe('bweb', `http://bee:8080${path}`)).got[0] === debian, 60_000, 500), JSON.stringify(seen)).toBe(true);
    expect((await probe('moved')).ifs).toEqual(['eth0', 'eth1', 'lo']);

    // Disconnected while running: eth1, its veth and its port table go at once; the alias leaves c-blue's DNS.
    expect((await run(['network', 'rm', 'c-blue'])).stderr).toMatch(/has active endpoints/);
    await ok(['network', 'disconnect', 'c-blue', 'moved']);
    expect(Object.keys(await netsOf('moved'))).toEqual(['c-red']);
    expect(links()).not.toContain(vethNames(blue, 'mover').host);
    expect(nftTables()).not.toContain(`lxzone_port_${vethNames(blue, 'mover').host}`);
    expect(await waitFor(async () => (seen = await probe('bweb', `http://bee:8080${path}`)).got[0] === null, 30_000, 500), JSON.stringify(seen)).toBe(true);
    expect((await probe('moved')).ifs).toEqual(['eth0', 'lo']);
    expect((await run(['network', 'disconnect', 'c-blue', 'moved'])).stderr).toMatch(/is not connected to network c-blue/);

    // Connected while stopped, then leaving its first network while running: c-blue becomes its first.
    await ok(['stop', '-t', '1', 'moved']);
    await ok(['network', 'connect', 'c-blue', 'moved']);
    await ok(['start', 'moved']);
    await ok(['network', 'disconnect', 'c-red', 'moved']);
    expect(JSON.parse(await ok(['inspect', 'moved']))[0].HostConfig.NetworkMode).toBe('c-blue');
    expect(links()).not.toContain(vethNames(red, 'mover').host);
    expect(await waitFor(async () => (seen = await probe('moved', `http://${bweb.IPAddress}:8080${path}`)).got[0] === debian, 60_000, 500), JSON.stringify(seen)).toBe(true);
    expect(seen.ifs).toEqual(['eth1', 'lo']);

    // Nothing left: containers, bridges, veths, nftables tables, leases, records.
    await ok(['rm', '-f', 'bweb', 'moved']);
    await ok(['network', 'rm', 'c-red', 'c-blue']);
    expectBridgesGone([red, blue], ['bweb', 'mover']);
    expectNoNetworkRecords(env.stateDir);
  });
});
