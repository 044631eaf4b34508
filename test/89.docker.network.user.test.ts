// User-defined networks through the real docker client: `network create`
// makes a bridge of its own (its subnet, IPAM, anti-spoofing per port and
// forwarding table); two containers on it reach each other by address, and
// a container on another network (or the default bridge) cannot reach them;
// the address is kept across a restart, the network across a daemon SIGKILL;
// rm is refused while a container names it; after rm nothing is left: no
// bridge, no nftables table, no state file.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { vethNames } from '../src/zone/network/addressing.js';
import { useDocker } from './support/docker.js';
import { expectBridgesGone, expectNoNetworkRecords, links, nftTables } from './support/docker-nets.js';
import { waitFor } from './support/lifecycle-env.js';

const { env, docker, ok, run, up } = useDocker(50);
const ipOf = async (c: string, net: string) => JSON.parse(await ok(['inspect', c]))[0].NetworkSettings.Networks[net].IPAddress as string;
/** An HTTP GET from a throw-away container on `net` (node of the host's root): the body, or null when it cannot connect. */
const fetchFrom = async (net: string, url: string): Promise<string | null> => {
  const get = `require('http').get(${JSON.stringify(url)},{timeout:3000},r=>r.pipe(process.stdout)).on('timeout',()=>process.exit(3)).on('error',()=>process.exit(2))`;
  const r = await run(['run', '--rm', '--network', net, 'host', process.execPath, '-e', get]);
  return r.code === 0 ? r.stdout : null;
};

describe('docker network create/rm with user-defined networks', () => {
  it('isolates networks from each other, keeps addresses, refuses rm in use and leaves nothing behind', async () => {
    await env.ok(['list']); // the daemon, which serves docker.sock
    await waitFor(() => existsSync(docker.socket), 30_000);
    const subnet = `10.230.${process.pid % 256}.0/24`;
    const id = await ok(['network', 'create', '--subnet', subnet, '--label', 'purpose=test', 'front']);
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    await ok(['network', 'create', 'back']);
    expect((await run(['network', 'create', 'front'])).stderr).toMatch(/network with name front already exists/);
    expect((await ok(['network', 'ls', '--filter', 'label=purpose=test', '--format', '{{.Name}}']))).toBe('front');
    const front = JSON.parse(await ok(['network', 'inspect', 'front']))[0];
    expect(front.IPAM.Config[0]).toEqual({ Subnet: subnet, Gateway: subnet.replace(/0\/24$/, '1') });
    const bridge = front.Options['com.docker.network.bridge.name'] as string;
    expect(bridge).toMatch(/^lxzn[0-9a-f]{11}$/);
    expect(links()).toContain(`${bridge}:`);
    const back = JSON.parse(await ok(['network', 'inspect', 'back']))[0];
    const backBridge = back.Options['com.docker.network.bridge.name'] as string;

    // A web server on "front"; busybox httpd serves the host's /etc (the image "host" is the host's root, read-only).
    await ok(['run', '-d', '--name', 'web', '--network', 'front', '--network-alias', 'www', 'host', 'busybox', 'httpd', '-f', '-p', '8080', '-h', '/etc']);
    const webIp = await ipOf('web', 'front');
    expect(webIp.startsWith(subnet.replace(/0\/24$/, ''))).toBe(true);
    const inspected = JSON.parse(await ok(['inspect', 'web']))[0];
    expect(inspected.HostConfig.NetworkMode).toBe('front');
    expect(inspected.NetworkSettings.Networks.front.Aliases).toContain('www');
    // The port carries the same source validation as on the default bridge.
    expect(nftTables()).toContain(`lxzone_port_${vethNames(bridge, 'web').host}`);
    expect(Object.values(JSON.parse(await ok(['network', 'inspect', 'front']))[0].Containers).map((c) => (c as { Name: string }).Name)).toEqual(['web']);

    const debian = execFileSync('cat', ['/etc/debian_version']).toString();
    const url = `http://${webIp}:8080/debian_version`;
    // Same network: reached (polled: the server may still be starting).
    expect(await waitFor(async () => (await fetchFrom('front', url)) === debian, 60_000, 500)).toBe(true);
    // Another user network, and the default bridge: not reached, though the host forwards for both (NAT is on).
    expect(await fetchFrom('back', url)).toBeNull();
    expect(await fetchFrom('bridge', url)).toBeNull();
    expect(await fetchFrom('front', url)).toBe(debian); // still reachable: the refusals were the isolation

    // rm refused while a container names the network (running or stopped).
    const refused = await run(['network', 'rm', 'front']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/error while removing network: network front id [0-9a-f]{64} has active endpoints/);
    await ok(['stop', '-t', '1', 'web']);
    expect((await run(['network', 'rm', 'front'])).stderr).toMatch(/has active endpoints/);

    // The address is kept across a restart and a daemon SIGKILL; the networks survive the daemon.
    await ok(['start', 'web']);
    expect(await ipOf('web', 'front')).toBe(webIp);
    process.kill(env.daemonPid()!, 'SIGKILL');
    await waitFor(() => env.daemonPid() === undefined, 30_000);
    await up(); // the killed daemon's socket file is there until the new daemon replaces it
    expect((await ok(['network', 'ls', '--format', '{{.Name}}'])).split('\n').sort()).toEqual(['back', 'bridge', 'front', 'none']);
    await ok(['restart', '-t', '1', 'web']);
    expect(await ipOf('web', 'front')).toBe(webIp);
    expect(await waitFor(async () => (await fetchFrom('front', url)) === debian, 60_000, 500)).toBe(true);

    // Moving a stopped container: disconnect leaves it loopback only, connect puts it on another network.
    await ok(['stop', '-t', '1', 'web']);
    await ok(['network', 'disconnect', 'front', 'web']);
    expect(Object.keys(JSON.parse(await ok(['inspect', 'web']))[0].NetworkSettings.Networks)).toEqual(['none']);
    await ok(['network', 'connect', 'back', 'web']);
    expect(JSON.parse(await ok(['inspect', 'web']))[0].HostConfig.NetworkMode).toBe('back');
    await ok(['rm', '-f', 'web']);

    // Nothing left behind: bridges, nftables tables, records, leases.
    await ok(['network', 'rm', 'front', 'back']);
    expect(await ok(['network', 'ls', '--format', '{{.Name}}'])).toBe('bridge\nnone');
    expectBridgesGone([bridge, backBridge]);
    expectNoNetworkRecords(env.stateDir);
    expect((await run(['network', 'inspect', 'front'])).stderr).toMatch(/No such network: front|network front not found/);
  });
});
