// A container's published ports and the default bridge as one of several
// networks, through the real docker client (Debian's, API 1.41): a
// container publishing a port that leaves its first network while running
// stays reached from the host (its ports follow it to the network that is
// its first now); `docker network connect bridge` adds the default bridge
// to a container on a user-defined network (an interface with a lasting
// address there, reached by the default bridge's containers), kept across
// a stop and start. Nothing left behind.
import { request } from 'node:http';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { vethNames } from '../src/zone/network/addressing.js';
import { useDocker } from './support/docker.js';
import { expectBridgesGone, links, netHelpers, nftTables } from './support/docker-nets.js';
import { waitFor } from './support/lifecycle-env.js';

const { env, docker, ok, run, up } = useDocker(53);
const { netsOf, createNets, probe, serve, debian, path } = netHelpers(docker);

/** A host TCP port free now. */
const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
/** GET from the host: the body, or null. */
const hostGet = (port: number) =>
  new Promise<string | null>((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 3000 }, (r) => {
      let b = '';
      r.on('data', (c: Buffer) => (b += c));
      r.on('end', () => resolve(b));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
    req.end();
  });

describe('docker network connect/disconnect: published ports and the default bridge', () => {
  it('moves published ports to the next first network, and adds the default bridge to a user-network container', async () => {
    await up();
    const [brA, brB] = await createNets('cb-a', 'cb-b');
    const hp = await freePort();
    await ok(['run', '-d', '--name', 'web', '--network', 'cb-a', '-p', `${hp}:8080`, ...serve]);
    expect(await waitFor(async () => (await hostGet(hp)) === debian, 60_000, 500)).toBe(true);

    // Leaving its first network while running: the port leads to cb-b's interface, now its first.
    await ok(['network', 'connect', 'cb-b', 'web']);
    await ok(['network', 'disconnect', 'cb-a', 'web']);
    expect(links()).not.toContain(vethNames(brA, 'web').host);
    expect(await waitFor(async () => (await hostGet(hp)) === debian, 60_000, 500)).toBe(true);
    expect(await ok(['port', 'web'])).toContain(`8080/tcp -> 0.0.0.0:${hp}`);

    // The default bridge as a further network of a container on a user-defined one.
    await ok(['network', 'connect', 'bridge', 'web']);
    let nets = await netsOf('web');
    expect(Object.keys(nets)).toEqual(['cb-b', 'bridge']);
    const onBridge = nets.bridge!.IPAddress;
    expect(onBridge).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect((await run(['network', 'connect', '--alias', 'x', 'bridge', 'web'])).code).not.toBe(0); // already on it (and no aliases there)
    await ok(['run', '-d', '--name', 'plain', ...serve]); // on the default bridge
    let seen = { ifs: [] as string[], got: [] as (string | null)[] };
    const url = `http://${onBridge}:8080${path}`;
    expect(await waitFor(async () => (seen = await probe('plain', url)).got[0] === debian, 60_000, 500), JSON.stringify(seen)).toBe(true);
    // Two interfaces (live, the first network left took eth0: cb-b's is eth1, the bridge's eth2).
    expect((await probe('web', `http://127.0.0.1:8080${path}`)).ifs.filter((i) => i.startsWith('eth'))).toHaveLength(2);

    // Kept across a stop and start: the same address on the bridge, the port still published.
    await ok(['stop', '-t', '1', 'web']);
    await ok(['start', 'web']);
    nets = await netsOf('web');
    expect(Object.keys(nets)).toEqual(['cb-b', 'bridge']);
    expect(nets.bridge!.IPAddress).toBe(onBridge);
    expect(await waitFor(async () => (seen = await probe('plain', url)).got[0] === debian, 60_000, 500), JSON.stringify(seen)).toBe(true);
    expect(await waitFor(async () => (await hostGet(hp)) === debian, 60_000, 500)).toBe(true);

    // Leaving the default bridge again: its interface goes at once.
    await ok(['network', 'disconnect', 'bridge', 'web']);
    expect(Object.keys(await netsOf('web'))).toEqual(['cb-b']);
    expect(links()).not.toContain(vethNames(env.bridge.name, 'web').host);

    // Nothing left.
    await ok(['rm', '-f', 'web', 'plain']);
    await ok(['network', 'rm', 'cb-a', 'cb-b']);
    expectBridgesGone([brA, brB]);
    expect(nftTables()).not.toContain(`lxzpub_${vethNames(brB, 'web').host}`);
    expect(await ok(['ps', '-aq'])).toBe('');
  });
});
