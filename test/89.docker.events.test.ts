// Events of a container's own life, through the real docker client: its
// process exiting by itself is a die with the exit code, a boot by its
// restart policy a start (not only what was asked through the API); inspect
// shows the image's Env under -e.
import { describe, expect, it } from 'vitest';
import { dockerClient } from './support/docker.js';
import { useLifecycleEnv, waitFor } from './support/lifecycle-env.js';

const env = useLifecycleEnv(63);
const docker = dockerClient(env);
const { ok } = docker;

describe('docker events of a container\'s own end', () => {
  it('reports die with the exit code when the process ends by itself, and start when its policy restarts it', async () => {
    await env.ok(['list']);
    const since = Math.floor(Date.now() / 1000) - 1;
    await ok(['run', '-d', '--name', 'ev', '--restart', 'on-failure:1', '-e', 'A=1', 'host', '/bin/sh', '-c', 'sleep 1; exit 3']);
    // Restarted once by its policy, then left stopped.
    const events = async () => {
      const until = Math.floor(Date.now() / 1000) + 1;
      return ok(['events', '--since', String(since), '--until', String(until), '--filter', 'container=ev', '--format', '{{.Action}}:{{index .Actor.Attributes "exitCode"}}']);
    };
    expect(await waitFor(async () => (await events()).split('\n').filter((l) => l.startsWith('die:')).length >= 2, 90_000, 500)).toBe(true);
    const actions = (await events()).split('\n');
    expect(actions.slice(0, 5)).toEqual(['create:', 'start:', 'die:3', 'start:', 'die:3']);
    // The image's Env (the host pseudo-image's PATH) with the container's -e.
    const envs = JSON.parse(await ok(['inspect', '--format', '{{json .Config.Env}}', 'ev'])) as string[];
    expect(envs).toContain('A=1');
    expect(envs.some((e) => e.startsWith('PATH=/'))).toBe(true);
    // A stop through the API: die (its code) then stop, once each.
    await ok(['run', '-d', '--name', 'ev2', 'host', '/bin/sleep', '600']);
    await ok(['stop', '-t', '1', 'ev2']);
    const until = Math.floor(Date.now() / 1000) + 1;
    const two = (await ok(['events', '--since', String(since), '--until', String(until), '--filter', 'container=ev2', '--format', '{{.Action}}'])).split('\n');
    expect(two).toEqual(['create', 'start', 'die', 'stop']);
    await ok(['rm', '-f', 'ev', 'ev2']);
    expect(env.store.list()).toEqual([]);
  });
});
