// Churn (issue 10, part 5): hundreds of zones started and stopped in a loop,
// a few at a time, within a time bound; afterwards this process (the
// launcher: it runs the supervisor and, for lifecycle zones, the manager) has
// the fds it had, and the host has the mounts, processes, cgroups, veths and
// state files it had (test/support/leaks.ts). Timing goes to stderr, for
// reading, not asserting (speed is bench/'s business).
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runZone } from '../src/zone/run.js';
import { leakCheckedLifecycle } from './support/leak-checked.js';
import { expectNoLeaks, leakSnapshot, leaksSince } from './support/leaks.js';
import { waitFor } from './support/lifecycle-env.js';
import { describeUnless, rootOnly } from './support/skip.js';

const isRoot = process.getuid?.() === 0;
const { env, lifecycle, manager, cgroupTag, leakOpts } = await leakCheckedLifecycle(73, { timeoutMs: 10_000, checkAfterEachTest: false });

const ZONES = 200;
const AT_ONCE = 4;
const BOUND_MS = 5 * 60_000;

/** Runs `job(i)` for i in [0, n), `width` at a time; returns per-job milliseconds. */
async function pool(n: number, width: number, job: (i: number) => Promise<void>): Promise<number[]> {
  const times: number[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let i = next++; i < n; i = next++) {
        const t0 = performance.now();
        await job(i);
        times[i] = performance.now() - t0;
      }
    }),
  );
  return times;
}

function report(what: string, wallMs: number, times: number[]): void {
  const s = [...times].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!.toFixed(0);
  process.stderr.write(`churn ${what}: ${times.length} zones in ${(wallMs / 1000).toFixed(1)} s, ${AT_ONCE} at a time; per zone median ${q(0.5)} ms, p90 ${q(0.9)} ms, max ${q(1)} ms\n`);
}

describeUnless(rootOnly(), 'the leak check', () => {
  it('sees an fd, a process, a file, a mount and a cgroup left behind (it can fail)', async () => {
    mkdirSync(env.runtimeDir, { recursive: true, mode: 0o700 });
    const before = leakSnapshot(leakOpts());
    const fd = openSync('/dev/null', 'r');
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    writeFileSync(join(env.runtimeDir, 'left-behind'), 'x');
    const mnt = join(env.base, 'mnt');
    mkdirSync(mnt);
    execFileSync('mount', ['-t', 'tmpfs', 'tmpfs', mnt]);
    const cg = join('/sys/fs/cgroup/pids', `${cgroupTag}-left-behind`);
    mkdirSync(cg);
    try {
      const leaks = leaksSince(before, leakSnapshot(leakOpts()), leakOpts());
      expect(leaks.fds?.some((f) => f.endsWith('/dev/null'))).toBe(true);
      expect(leaks.procs?.some((p) => p.startsWith(`${child.pid} `))).toBe(true);
      expect(leaks.files).toContain(join(env.runtimeDir, 'left-behind'));
      expect(leaks.mounts?.some((m) => m.startsWith(`${mnt} tmpfs`))).toBe(true);
      expect(leaks.cgroups?.some((c) => c.endsWith('-left-behind'))).toBe(true);
    } finally {
      closeSync(fd);
      child.kill('SIGKILL');
      rmSync(join(env.runtimeDir, 'left-behind'));
      execFileSync('umount', [mnt]);
      rmdirSync(cg);
    }
    await expectNoLeaks(before, leakOpts());
  });
});

describeUnless(rootOnly(), 'churn', () => {
  it(`${ZONES} one-shot zones (/bin/true, loopback): fds, processes, mounts and id claims back where they were`, async () => {
    // The supervisor's thread and fds are made by the first zone of this process: not churn.
    await runZone({ argv: ['/bin/true'], stdio: 'pipe', network: 'loopback' });
    const before = leakSnapshot(leakOpts());
    const codes = new Map<number, number>();
    const t0 = performance.now();
    const times = await pool(ZONES, AT_ONCE, async () => {
      const r = await runZone({ argv: ['/bin/true'], stdio: 'pipe', network: 'loopback' });
      codes.set(r.exitCode, (codes.get(r.exitCode) ?? 0) + 1);
    });
    const wall = performance.now() - t0;
    report('runZone', wall, times);
    expect(wall).toBeLessThan(BOUND_MS);
    expect([...codes]).toEqual([[0, ZONES]]);
    await expectNoLeaks(before, leakOpts());
  }, BOUND_MS + 60_000);

  it(`${ZONES} lifecycle zones (create, boot /bin/true on loopback, end, destroy): cgroups, records and files back too`, async () => {
    // Warm: the cgroup parent, the IPAM file, the manager's first zone.
    await lifecycle.createZone({ name: 'warm', rootfs: { type: 'host' }, command: ['/bin/true'], network: { mode: 'loopback' } });
    await manager().boot('warm');
    await waitFor(async () => (await manager().info('warm')).state === 'stopped', 10_000, 20);
    await manager().destroy('warm');
    const before = leakSnapshot(leakOpts());
    const exits = new Map<string, number>();
    const t0 = performance.now();
    const times = await pool(ZONES, AT_ONCE, async (i) => {
      const name = `churn-${i}`;
      await lifecycle.createZone({ name, rootfs: { type: 'host' }, command: ['/bin/true'], network: { mode: 'loopback' } });
      await manager().boot(name);
      const info = await waitFor(async () => {
        const z = await manager().info(name);
        return z.state === 'stopped' && z.lastExit ? z : undefined;
      }, 20_000, 20);
      const key = info?.lastExit ? `${info.lastExit.exitCode}${info.lastExit.error ? ` ${info.lastExit.error}` : ''}` : 'no end seen';
      exits.set(key, (exits.get(key) ?? 0) + 1);
      await manager().destroy(name);
    });
    const wall = performance.now() - t0;
    report('lifecycle', wall, times);
    expect(wall).toBeLessThan(BOUND_MS);
    expect([...exits]).toEqual([['0', ZONES]]);
    expect(env.store.list()).toEqual([]);
    await expectNoLeaks(before, leakOpts());
  }, BOUND_MS + 60_000);

  it('40 lifecycle zones on the bridge (veth pairs, leases) and halted while running: veths and leases back too', async () => {
    const N = 40;
    const zone = (name: string) => ({ name, rootfs: { type: 'host' }, command: ['/bin/sleep', '60'], network: { mode: 'zone' }, resources: { memoryBytes: 64 << 20 } });
    await lifecycle.createZone(zone('warm-net'));
    await manager().boot('warm-net');
    await manager().halt('warm-net', { timeoutMs: 2000 });
    await manager().destroy('warm-net');
    const before = leakSnapshot(leakOpts());
    const t0 = performance.now();
    const times = await pool(N, AT_ONCE, async (i) => {
      const name = `net-${i}`;
      await lifecycle.createZone(zone(name));
      const up = await manager().boot(name);
      expect(up.ipv4?.startsWith(env.bridge.subnet.replace(/0\/\d+$/, ''))).toBe(true);
      const down = await manager().halt(name, { timeoutMs: 2000 });
      expect(down.lastExit).toMatchObject({ exitCode: 143, signal: 'SIGTERM', haltedByUs: true });
      await manager().destroy(name);
    });
    const wall = performance.now() - t0;
    report('lifecycle on the bridge', wall, times);
    expect(wall).toBeLessThan(BOUND_MS);
    await expectNoLeaks(before, leakOpts());
  }, BOUND_MS + 60_000);
});
