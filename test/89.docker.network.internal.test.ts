// `docker network create --internal` and the IPv6 subnet of a user-defined
// network, through the real docker client: containers on an internal
// network reach each other (by name, IPv4 and IPv6 on the /64 asked for)
// and nothing outside it: no default route, no NAT element, no published
// port, names it does not hold refused by its DNS instead of forwarded.
// Other drivers and a v6 subnet that is not a /64 are refused naming them.
// Nothing left behind.
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { vethNames } from '../src/zone/network/addressing.js';
import { outboundTable } from '../src/zone/network/outbound.js';
import { useDocker } from './support/docker.js';
import { expectBridgesGone, expectNoNetworkRecords, netHelpers, nftTables } from './support/docker-nets.js';
import { waitFor } from './support/lifecycle-env.js';

const { env, docker, ok, run, up } = useDocker(45);
const { netsOf, bridgeOf, probe, serve, debian, path } = netHelpers(docker);

/** The addresses in a bridge's NAT set (zones allowed out). */
const natSet = (bridge: string) => execFileSync('nft', ['list', 'set', 'ip', outboundTable(bridge), 'nat']).toString();
const LOOKUP = `require('dns').promises.resolve4(process.argv[1]).then(a=>console.log(a.join(',')),e=>console.log(e.code))`;

describe('docker network create --internal, and a v6 subnet', () => {
  it('keeps an internal network inside itself and numbers it from the /64 asked for', async () => {
    await up();
    expect((await run(['network', 'create', '-d', 'overlay', 'i-over'])).stderr).toMatch(/network driver overlay is not supported by lxzone/);
    expect((await run(['network', 'create', '--ipv6', '--subnet', 'fd42:1::/48', 'i-bad'])).stderr).toMatch(/an lxzone network's IPv6 subnet is a \/64/);
    const v6 = `fd42:${(process.pid % 65536).toString(16)}:7::/64`;
    await ok(['network', 'create', '--internal', '--ipv6', '--subnet', v6, 'i-inner']);
    const inner = JSON.parse(await ok(['network', 'inspect', 'i-inner']))[0];
    expect(inner.Internal).toBe(true);
    expect(inner.IPAM.Config[1].Subnet).toBe(v6);
    const bridge = await bridgeOf('i-inner');

    await ok(['run', '-d', '--name', 'in1', '--network', 'i-inner', ...serve]);
    await ok(['run', '-d', '--name', 'in2', '--network', 'i-inner', '-p', '127.0.0.1:18089:8080', ...serve]);
    const in1 = (await netsOf('in1'))['i-inner']!;
    expect(in1.GlobalIPv6Address.startsWith(v6.replace(/::\/64$/, '::'))).toBe(true);
    // Inside the network: by name, IPv4 and IPv6.
    let seen = { ifs: [] as string[], got: [] as (string | null)[] };
    const urls = [`http://in1:8080${path}`, `http://${in1.IPAddress}:8080${path}`, `http://[${in1.GlobalIPv6Address}]:8080${path}`];
    expect(await waitFor(async () => (seen = await probe('in2', ...urls)).got.every((g) => g === debian), 60_000, 500), JSON.stringify(seen)).toBe(true);
    // Nothing outside: no default route (v4 or v6), no NAT element, the port not published, outside names refused.
    expect(await ok(['exec', 'in2', 'ip', 'route', 'show', 'default'])).toBe('');
    expect(await ok(['exec', 'in2', 'ip', '-6', 'route', 'show', 'default'])).toBe('');
    expect(natSet(bridge)).not.toContain(in1.IPAddress);
    expect(nftTables()).not.toContain(`lxzpub_${vethNames(bridge, 'in2').host}`);
    expect(await ok(['exec', 'in2', process.execPath, '-e', LOOKUP, 'example.com'])).toBe('EREFUSED');
    expect(await ok(['exec', 'in2', process.execPath, '-e', LOOKUP, 'in1'])).toBe(in1.IPAddress);

    // busybox wget -T dies of SIGSEGV in a zone as on the host (Debian 12's busybox is built without
    // FEATURE_WGET_TIMEOUT: docs/parts/network-cgroups.md); without -T it works in the zone.
    const url = `http://${in1.IPAddress}:8080${path}`;
    expect(spawnSync('busybox', ['wget', '-q', '-T', '1', '-O-', 'http://127.0.0.1:1/']).signal).toBe('SIGSEGV');
    expect((await run(['exec', 'in2', 'busybox', 'wget', '-q', '-T', '1', '-O-', url])).code).toBe(139);
    expect((await run(['exec', 'in2', 'busybox', 'wget', '-q', '-O-', url])).stdout).toBe(debian);

    // Nothing left: containers, bridge, veths, nftables tables, leases, record.
    await ok(['rm', '-f', 'in1', 'in2']);
    await ok(['network', 'rm', 'i-inner']);
    expectBridgesGone([bridge], ['in1', 'in2']);
    expectNoNetworkRecords(env.stateDir);
  });
});
