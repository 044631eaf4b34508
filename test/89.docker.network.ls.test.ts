// docker network through the real docker client: the predefined networks
// (lxzone's bridge, none) listed and inspected with the bridge's subnet and
// its running containers' addresses; what lxzone does not do (other drivers,
// a second endpoint) refused with Docker's errors, and the bridge not removable.
// User-defined networks: 89.docker.network.user.
import { describe, expect, it } from 'vitest';
import { dockerClient } from './support/docker.js';
import { useLifecycleEnv } from './support/lifecycle-env.js';

const env = useLifecycleEnv(75);
const { ok, run } = dockerClient(env);

describe('docker network', () => {
  it('lists and inspects the bridge and none; refuses what it cannot do with Docker errors', async () => {
    await env.ok(['list']);
    expect((await ok(['network', 'ls', '--format', '{{.Name}} {{.Driver}}'])).split('\n').sort()).toEqual(['bridge bridge', 'none null']);
    await ok(['run', '-d', '--name', 'member', 'host', 'sleep', '600']);
    const ip = JSON.parse(await ok(['inspect', 'member']))[0].NetworkSettings.IPAddress as string;
    const n = JSON.parse(await ok(['network', 'inspect', 'bridge']))[0];
    expect(n.IPAM.Config[0]).toEqual({ Subnet: env.bridge.subnet, Gateway: `${env.net}1` });
    expect(Object.values(n.Containers as Record<string, { Name: string; IPv4Address: string }>).map((c) => [c.Name, c.IPv4Address])).toEqual([['member', `${ip}/24`]]);
    const refused: [string[], RegExp][] = [
      [['network', 'create', 'bridge'], /operation is not permitted on predefined bridge network/],
      [['network', 'create', '--driver', 'overlay', 'mine'], /driver overlay is not supported/],
      [['network', 'rm', 'bridge'], /bridge is a pre-defined network and cannot be removed/],
      [['network', 'inspect', 'nosuch'], /No such network: nosuch/],
      [['network', 'connect', 'bridge', 'member'], /endpoint with name member already exists in network bridge/],
      [['run', '--network', 'nosuch', 'host', 'true'], /network nosuch not found/],
    ];
    for (const [args, msg] of refused) {
      const r = await run(args);
      expect([args.join(' '), r.code === 0]).toEqual([args.join(' '), false]);
      expect(r.stderr).toMatch(msg);
    }
    await ok(['rm', '-f', 'member']);
  });
});
