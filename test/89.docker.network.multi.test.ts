// A container on several user-defined networks at once, through the real
// docker client: `network connect` gives a running container one more
// interface (eth1) with a lasting address on that network; its name and
// alias resolve in that network's DNS, and it resolves (and reaches, IPv4
// and IPv6) the containers of both its networks; containers on only one of
// the networks still reach nothing on the other. Nothing left behind.
// (Restart, disconnect and a first network left: 89.docker.network.multi-change.)
import { describe, expect, it } from 'vitest';
import { vethNames } from '../src/zone/network/addressing.js';
import { useDocker } from './support/docker.js';
import { expectBridgesGone, expectNoNetworkRecords, netHelpers, nftTables } from './support/docker-nets.js';
import { waitFor } from './support/lifecycle-env.js';

const { env, docker, ok, run, up } = useDocker(74);
const { netsOf, createNets, namesOn, probe, serve, debian, path } = netHelpers(docker);

describe('docker network connect: a container on two networks', () => {
  it('gets an interface live, resolves and reaches both networks, and the others stay apart', async () => {
    await up();
    const [red, blue] = await createNets('m-red', 'm-blue');
    await ok(['run', '-d', '--name', 'rweb', '--network', 'm-red', ...serve]);
    await ok(['run', '-d', '--name', 'bweb', '--network', 'm-blue', ...serve]);
    await ok(['run', '-d', '--name', 'both', '--network', 'm-red', ...serve]);
    const bweb = (await netsOf('bweb'))['m-blue']!;
    const rweb = (await netsOf('rweb'))['m-red']!;

    // Connected while running: eth1 on m-blue at once, with its port's source validation.
    await ok(['network', 'connect', '--alias', 'bee', 'm-blue', 'both']);
    const nets = await netsOf('both');
    expect(Object.keys(nets)).toEqual(['m-red', 'm-blue']);
    expect(nets['m-blue']!.Aliases).toContain('bee');
    expect(nets['m-blue']!.IPAddress).not.toBe('');
    expect(nets['m-blue']!.GlobalIPv6Address).toMatch(/^fd[0-9a-f:]+$/);
    expect(nftTables()).toContain(`lxzone_port_${vethNames(blue, 'both').host}`);
    expect(await namesOn('m-blue')).toEqual(['both', 'bweb']);
    expect((await run(['network', 'connect', 'm-blue', 'both'])).stderr).toMatch(/already exists in network m-blue/);

    // From both: each network by name (m-red's DNS answers it the names of m-blue too), and IPv6 on m-blue.
    const fromBoth = [`http://bweb:8080${path}`, `http://rweb:8080${path}`, `http://[${bweb.GlobalIPv6Address}]:8080${path}`, `http://[${rweb.GlobalIPv6Address}]:8080${path}`];
    let seen = { ifs: [] as string[], got: [] as (string | null)[] };
    expect(await waitFor(async () => (seen = await probe('both', ...fromBoth)).got.every((g) => g === debian), 60_000, 500), JSON.stringify(seen)).toBe(true);
    expect(seen.ifs).toEqual(['eth0', 'eth1', 'lo']);
    // From bweb (m-blue only): both by its name and alias there; rweb neither by name nor by address, v4 or v6.
    // (What must work is polled: one GET may time out on a loaded host; what must not stays null.)
    const fromBweb = [`http://bee:8080${path}`, `http://both:8080${path}`];
    expect(await waitFor(async () => (seen = await probe('bweb', ...fromBweb)).got.every((g) => g === debian), 60_000, 500), JSON.stringify(seen)).toBe(true);
    expect((await probe('bweb', `http://rweb:8080${path}`, `http://${rweb.IPAddress}:8080${path}`, `http://[${rweb.GlobalIPv6Address}]:8080${path}`)).got).toEqual([null, null, null]);
    // From rweb (m-red only): its own network yes (the refusals below are the isolation), nothing of m-blue.
    expect(await waitFor(async () => (seen = await probe('rweb', `http://both:8080${path}`)).got[0] === debian, 60_000, 500), JSON.stringify(seen)).toBe(true);
    expect((await probe('rweb', `http://bweb:8080${path}`, `http://${bweb.IPAddress}:8080${path}`, `http://[${bweb.GlobalIPv6Address}]:8080${path}`)).got).toEqual([null, null, null]);

    // Nothing left: containers, bridges, veths, nftables tables, leases, records.
    await ok(['rm', '-f', 'rweb', 'bweb', 'both']);
    await ok(['network', 'rm', 'm-red', 'm-blue']);
    expectBridgesGone([red, blue], ['rweb', 'bweb', 'both']);
    expectNoNetworkRecords(env.stateDir);
  });
});
