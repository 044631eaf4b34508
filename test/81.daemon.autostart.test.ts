// Restart policies when a daemon starts: "always" zones are booted, and
// "unless-stopped" ones too unless the user halted them; a zone whose keeper
// died while no daemon ran is booted again by its policy.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { useLifecycleEnv, waitFor } from './support/lifecycle-env.js';

const env = useLifecycleEnv(84);
const { ok } = env;
const states = async () => Object.fromEntries((await env.list()).map((z) => [z.name, z.state]));

it('a starting daemon boots always and unless-stopped zones, not those the user halted', async () => {
  const zones = { al: 'always', us: 'unless-stopped', halted: 'unless-stopped', plain: 'no' };
  for (const [n, p] of Object.entries(zones)) {
    await ok(['create', n, '--network', 'loopback', '--restart', p, '--', '/bin/sleep', '600']);
    await ok(['boot', n]);
  }
  await ok(['halt', 'halted']);
  // The daemon goes away and takes every zone down with it (as a host shutdown would).
  await ok(['daemon', 'stop', '--halt-zones']);
  await waitFor(() => env.daemonPid() === undefined, 30_000);
  expect(await states()).toEqual({ al: 'running', us: 'running', halted: 'stopped', plain: 'stopped' });
  expect(readFileSync(join(env.stateDir, 'daemon.log'), 'utf8')).toMatch(/booted \[al us\]/);

  // A zone whose keeper dies while no daemon runs is booted again by its policy.
  const rec = JSON.parse(readFileSync(join(env.runtimeDir, 'zones', 'al.json'), 'utf8')) as { keeperPid: number; initPid: number };
  process.kill(env.daemonPid()!, 'SIGKILL');
  process.kill(rec.keeperPid, 'SIGKILL');
  const s = await states();
  expect(s.al).toBe('running');
  const rec2 = JSON.parse(readFileSync(join(env.runtimeDir, 'zones', 'al.json'), 'utf8')) as { initPid: number };
  expect(rec2.initPid).not.toBe(rec.initPid);
});
