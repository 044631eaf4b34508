// Issue 14.8: restart storms. A zone calling reboot(2) in a loop was set up
// again and again without end (`lxzone run -- busybox reboot -f` spun for
// ten minutes). Restarts now back off exponentially and stop after a burst,
// for one-shot runs and daemon zones alike, and the state says so.
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RESTART_BURST, restartDelayMs } from '../src/zone/lifecycle/restart.js';
import { inspectZone } from '../src/zone/lifecycle/api.js';
import type { ZoneDetails } from '../src/zone/lifecycle/types.js';
import { useLifecycleEnv, waitFor } from './support/lifecycle-env.js';

const dirs: string[] = [];
const env = useLifecycleEnv(76, {
  afterReset: () => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  },
});
const { cli, ok } = env;

/** A directory the zone's root may write, bound at /mnt: the zone notes each boot's time there. */
function bootsDir(): { dir: string; boots: () => number[] } {
  const dir = mkdtempSync('/tmp/lxz76-boots-');
  chmodSync(dir, 0o777);
  dirs.push(dir);
  const file = join(dir, 'boots');
  // Each one-shot run has host ids of its own: the file must be writable by all of them.
  writeFileSync(file, '', { mode: 0o666 });
  chmodSync(file, 0o666);
  return { dir, boots: () => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number) : []) };
}

// Each boot writes its time (ms) and asks for a restart at once.
const STORM = 'echo $(($(date +%s%N) / 1000000)) >> /mnt/boots; busybox reboot -f; sleep 30';

/** The gaps between boots grow as restartDelayMs says (a lower bound: set-up time adds to each). */
function expectBackOff(times: number[]): void {
  for (let i = 1; i < times.length; i++) {
    const planned = restartDelayMs(i - 1, { reboot: true });
    expect(times[i]! - times[i - 1]!, `gap before boot ${i + 1}`).toBeGreaterThanOrEqual(planned * 0.9);
  }
}

describe('reboot(2) in a loop', () => {
  it('lxzone run: restarts back off, and after the burst it stops with exit 125 and the reason', async () => {
    const { dir, boots } = bootsDir();
    const r = await cli(['run', '--no-tty', '-v', `${dir}:/mnt`, '--', '/bin/sh', '-c', STORM], { timeoutMs: 120_000 });
    expect(r.signal).toBeNull(); // ended by itself, not by the test's timeout
    expect(r.code, r.stderr).toBe(125);
    expect(r.stderr).toMatch(new RegExp(`restart limit reached: ${RESTART_BURST} restarts in a row`));
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const times = boots();
    expect(times).toHaveLength(RESTART_BURST + 1);
    expectBackOff(times);
  });

  it('a daemon zone: restarting (with its back-off) while the series lasts, then failed, saying why; boot starts it again', async () => {
    const { dir, boots } = bootsDir();
    await ok(['create', 'storm', '--network', 'loopback', '-v', `${dir}:/mnt`, '--', '/bin/sh', '-c', STORM]);
    await ok(['boot', 'storm']);
    // Seen while it backs off: the state, the count and when it comes back.
    // (through the API: a CLI process per look is too slow to catch a back-off of 100 ms)
    const restarting = (await waitFor(async () => {
      const z = await inspectZone('storm');
      return z.state === 'restarting' && (z.restarts ?? 0) >= 2 ? z : undefined;
    }, 60_000, 20)) as ZoneDetails | undefined;
    expect(restarting).toBeDefined();
    expect(restarting!.nextRestartAt, JSON.stringify(restarting)).toBeDefined();
    expect(Date.parse(restarting!.nextRestartAt!)).toBeGreaterThan(Date.parse(restarting!.lastExit!.at));

    await waitFor(async () => (await env.inspect('storm')).state === 'failed', 60_000, 200);
    const z = await env.inspect('storm');
    expect(z.state).toBe('failed');
    expect(z.restarts).toBe(RESTART_BURST);
    expect(z.lastExit?.reboot).toBe('restart');
    expect(z.lastExit?.error).toMatch(new RegExp(`restart limit reached: ${RESTART_BURST} restarts in a row`));
    expect((await env.list()).find((i) => i.name === 'storm')?.state).toBe('failed');
    expect(readFileSync(join(env.stateDir, 'daemon.log'), 'utf8')).toMatch(/zone storm: not restarted: restart limit reached/);
    // No more boots once failed.
    await new Promise((res) => setTimeout(res, 2000));
    const times = boots();
    expect(times).toHaveLength(RESTART_BURST + 1);
    expectBackOff(times);

    // A boot by the user starts a fresh series.
    await ok(['boot', 'storm']);
    await waitFor(() => boots().length > RESTART_BURST + 1, 60_000);
    expect(boots().length).toBeGreaterThan(RESTART_BURST + 1);
    // (the environment's reset destroys it, whatever point of its series it is at)
  });
});
