// A default-bridge container that joins a user-defined network resolves
// that network's names, as with dockerd (whose resolver serves a container
// once it is on a user-defined network), through the real docker client
// (Debian's, API 1.41): on the bridge alone its /etc/resolv.conf is the
// host's nameservers less the loopback ones; `network connect` (running)
// makes it name the network's DNS server at once, where the peer resolves
// and is reached by name; `disconnect` gives the host's nameservers back.
// --dns is refused (not applied).
// Nothing left behind.
import { describe, expect, it } from 'vitest';
import { vethNames } from '../src/zone/network/addressing.js';
import { useDocker } from './support/docker.js';
import { expectBridgesGone, hostServers, links, lookFrom, netHelpers } from './support/docker-nets.js';
import { waitFor } from './support/lifecycle-env.js';

const { docker, ok, run, up } = useDocker(49);
const { netsOf, createNets, gateways, serve, debian, path } = netHelpers(docker);
const look = lookFrom(docker);

describe('a default-bridge container on a user-defined network too', () => {
  it('resolves through that network\'s DNS server while it is on it', async () => {
    await up();
    const [br] = await createNets('bd-net');
    const { v4, v6 } = await gateways('bd-net');
    const gw = [v4, v6];
    await ok(['run', '-d', '--name', 'bd-peer', '--network', 'bd-net', ...serve]);
    await ok(['run', '-d', '--name', 'bd-web', ...serve]);
    const peerIp = (await netsOf('bd-peer'))['bd-net']!.IPAddress;

    // --dns is not applied here: refused, naming the flag, rather than ignored.
    expect((await run(['run', '--rm', '--dns', '192.0.2.53', 'host', 'true'])).stderr).toMatch(/--dns is not supported/);
    let seen = await look('bd-web');
    expect([seen.ifs, seen.servers]).toEqual([['eth0', 'lo'], hostServers]);

    await ok(['network', 'connect', 'bd-net', 'bd-web']);
    expect(await waitFor(async () => (seen = await look('bd-web', 'bd-peer', `http://bd-peer:8080${path}`)).got === debian, 60_000, 500), JSON.stringify(seen)).toBe(true);
    expect(seen).toEqual({ ifs: ['eth0', 'eth1', 'lo'], servers: gw, addr: peerIp, got: debian });

    await ok(['network', 'disconnect', 'bd-net', 'bd-web']);
    seen = await look('bd-web', 'bd-peer');
    expect([seen.ifs, seen.servers]).toEqual([['eth0', 'lo'], hostServers]);
    expect(links()).not.toContain(vethNames(br, 'bd-web').host);

    await ok(['rm', '-f', 'bd-web', 'bd-peer']);
    await ok(['network', 'rm', 'bd-net']);
    expectBridgesGone([br]);
    expect(await ok(['ps', '-aq'])).toBe('');
  });
});
