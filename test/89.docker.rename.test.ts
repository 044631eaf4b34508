// docker rename through the real docker client: the Docker name is a field
// beside the zone (whose own name keys its state and stays), so a running
// container is renamed, ps/inspect/events and every verb use the new name,
// the old name is free for a new container (a zone named by its id), a
// taken name is a 409, and a daemon SIGKILL keeps the name.
import { describe, expect, it } from 'vitest';
import { dockerClient } from './support/docker.js';
import { useLifecycleEnv, waitFor } from './support/lifecycle-env.js';

const env = useLifecycleEnv(59);
const docker = dockerClient(env);
const { ok, run } = docker;

describe('docker rename', () => {
  it('renames a running container; the new name is used everywhere, the old one is free, a taken one is a 409', async () => {
    await env.ok(['list']); // the daemon, which serves docker.sock
    const since = Math.floor(Date.now() / 1000) - 1;
    const id = await ok(['run', '-d', '--name', 'first', 'host', '/bin/sh', '-c', 'echo hello; exec sleep 600']);
    await ok(['run', '-d', '--name', 'other', 'host', '/bin/sleep', '600']);
    await ok(['rename', 'first', 'Second']);
    expect(await ok(['inspect', '--format', '{{.Name}} {{.State.Running}}', id])).toBe('/Second true');
    expect(await ok(['ps', '--filter', `id=${id}`, '--format', '{{.Names}}'])).toBe('Second');
    expect((await run(['inspect', 'first'])).code).not.toBe(0);
    // Verbs by the new name; the zone is the same one.
    expect(await waitFor(async () => (await run(['logs', 'Second'])).stdout.includes('hello'), 30_000, 200)).toBe(true);
    expect(await ok(['exec', 'Second', '/bin/echo', 'in'])).toBe('in');
    expect((await env.list()).map((z) => z.name).sort()).toEqual(['first', 'other']);
    // Taken names: another container's (409), its own (400).
    const taken = await run(['rename', 'Second', 'other']);
    expect(taken.code).not.toBe(0);
    expect(taken.stderr).toMatch(/Conflict\. The container name "\/other" is already in use/);
    expect((await docker.raw('POST', '/v1.41/containers/Second/rename?name=other')).status).toBe(409);
    expect((await docker.raw('POST', '/v1.41/containers/Second/rename?name=Second')).status).toBe(400);
    expect((await docker.raw('POST', '/v1.41/containers/Second/rename?name=b%20ad')).status).toBe(400);
    const dup = await run(['run', '-d', '--name', 'Second', 'host', 'true']);
    expect(dup.code).toBe(125);
    expect(dup.stderr).toMatch(/already in use/);
    // The old name is free: a new container takes it (its zone is named by its id: "first" is still a zone).
    const id2 = await ok(['run', '-d', '--name', 'first', 'host', '/bin/sleep', '600']);
    expect(await ok(['inspect', '--format', '{{.Name}}', 'first'])).toBe('/first');
    expect((await env.list()).map((z) => z.name)).toContain(id2.slice(0, 12));
    // The rename event, and later events under the new name.
    await ok(['stop', '-t', '1', 'Second']);
    const until = Math.floor(Date.now() / 1000) + 1;
    const events = (await ok(['events', '--since', String(since), '--until', String(until), '--filter', `container=${id}`, '--format', '{{.Action}} {{.Actor.Attributes.name}} {{index .Actor.Attributes "oldName"}}'])).split('\n');
    expect(events).toContain('rename Second /first');
    expect(events.slice(-2).map((e) => e.trim())).toEqual(['die Second', 'stop Second']);
    // A daemon SIGKILL keeps the name; start by it.
    process.kill(env.daemonPid()!, 'SIGKILL');
    await waitFor(() => env.daemonPid() === undefined, 30_000);
    await env.ok(['list']);
    await ok(['start', 'Second']);
    expect(await ok(['ps', '--format', '{{.Names}}', '--filter', 'name=Sec'])).toBe('Second');
    await ok(['rm', '-f', 'Second', 'first', 'other']);
    expect(env.store.list()).toEqual([]);
    expect(await ok(['ps', '-a', '-q'])).toBe('');
  });
});
