// Events dockerd reports that lxzone did not: `oom` when a container's
// process is killed by the OOM killer at its memory cap (-m), both when the
// container lives on and when the kill ends it; and `docker rmi` reports an
// untag per reference, then one delete of the image (not one per digest).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dockerClient } from './support/docker.js';
import { useLifecycleEnv, waitFor } from './support/lifecycle-env.js';

const env = useLifecycleEnv(61);
const docker = dockerClient(env);
const { ok, run } = docker;

/** Actions of the events since `since` (Unix seconds) matching a filter, as ACTION or ACTION:ID. */
async function actions(since: number, filter: string[], format = '{{.Action}}'): Promise<string[]> {
  const until = Math.floor(Date.now() / 1000) + 1;
  const out = await ok(['events', '--since', String(since), '--until', String(until), ...filter.flatMap((f) => ['--filter', f]), '--format', format]);
  return out.split('\n').filter(Boolean);
}

// tail holds a line that never ends: it grows until the cap's OOM killer takes it.
const EAT = 'head -c 400m /dev/zero | tail';

describe('docker events: oom, and rmi', () => {
  it('reports oom when a process hits the container\'s memory cap, whether or not the container ends', async () => {
    await env.ok(['list']); // the daemon, which serves docker.sock
    const since = Math.floor(Date.now() / 1000) - 1;
    // Lives on after the kill (the kill is not its first process).
    await ok(['run', '-d', '--name', 'lives', '-m', '32m', 'host', '/bin/sh', '-c', `sleep 2; ${EAT}; echo eaten=$?; exec sleep 600`]);
    expect(await waitFor(async () => (await run(['logs', 'lives'])).stdout.includes('eaten='), 90_000, 300)).toBe(true);
    expect(await waitFor(async () => (await actions(since, ['container=lives', 'event=oom'])).length === 1, 30_000, 500)).toBe(true);
    // Without a cap nothing is killed and no oom is reported (the test can fail).
    await ok(['run', '--rm', '--name', 'nocap', 'host', '/bin/sh', '-c', 'head -c 64m /dev/zero | tail | wc -c']);
    // Ended by the kill: its first process is the one killed.
    await ok(['run', '-d', '--name', 'dies', '-m', '32m', 'host', '/bin/sh', '-c', `sleep 2; exec tail /dev/zero`]);
    expect(await waitFor(async () => (await ok(['inspect', '--format', '{{.State.Running}}', 'dies'])) === 'false', 90_000, 300)).toBe(true);
    expect(await waitFor(async () => (await actions(since, ['container=dies'])).includes('oom'), 30_000, 500)).toBe(true);
    const dies = await actions(since, ['container=dies']);
    expect(dies.indexOf('oom')).toBeLessThan(dies.indexOf('die'));
    expect(await actions(since, ['container=nocap', 'event=oom'])).toEqual([]);
    expect(await actions(since, ['container=lives', 'event=oom'])).toHaveLength(1);
    // State.OOMKilled: set by the kill, running or ended; never without one.
    expect(await ok(['inspect', '--format', '{{.State.OOMKilled}}', 'lives'])).toBe('true');
    expect(await ok(['inspect', '--format', '{{.State.OOMKilled}}', 'dies'])).toBe('true');
    // Ended by the kill within its first second, before the once-a-second watch looked: seen at its end.
    await ok(['run', '--name', 'quick', '-m', '32m', 'host', '/bin/sh', '-c', 'exec tail /dev/zero']).catch(() => undefined);
    expect(await waitFor(async () => (await ok(['inspect', '--format', '{{.State.Running}}', 'quick'])) === 'false', 90_000, 300)).toBe(true);
    expect(await waitFor(async () => (await ok(['inspect', '--format', '{{.State.OOMKilled}}', 'quick'])) === 'true', 30_000, 300)).toBe(true);
    await ok(['run', '--name', 'calm', 'host', '/bin/true']);
    expect(await ok(['inspect', '--format', '{{.State.OOMKilled}}', 'calm'])).toBe('false');
    await ok(['rm', '-f', 'lives', 'dies', 'quick', 'calm']);
  });

  it('rmi reports untag per reference, then one delete', async () => {
    await env.ok(['list']);
    const dir = join(env.base, 'img');
    mkdirSync(join(dir, 'root'), { recursive: true });
    writeFileSync(join(dir, 'root', 'hello'), 'hi\n');
    execFileSync('tar', ['--numeric-owner', '-C', join(dir, 'root'), '-cf', join(dir, 'r.tar'), '.']);
    const since = Math.floor(Date.now() / 1000) - 1;
    const id = await ok(['import', join(dir, 'r.tar'), 'ev:one']);
    await ok(['tag', 'ev:one', 'ev:two']);
    await ok(['rmi', 'ev:two']); // one of two references: untag only
    await ok(['rmi', 'ev:one']); // the last: untag, then delete
    const seen = await actions(since, ['type=image', 'event=untag', 'event=delete'], '{{.Action}}:{{.Actor.ID}}');
    expect(seen).toEqual([`untag:${id}`, `untag:${id}`, `delete:${id}`]);
  });
});
