// Faults (issue 10, part 4): each ends in a defined state, documented in
// docs/security.md ("Faults"), and this file holds the state to it.
//
//   SIGKILL of the launcher (the supervisor's process) running one-shot zones
//   SIGKILL of a zone's keeper, one-shot and daemon-managed
//   SIGKILL of a zone's init, with and without the reaper
//   a zone whose binary ignores SIGTERM: RunningZone.kill, and the lifecycle's halt
//   a full disk under the state directory (and under the runtime directory)
//
// Not here (see there): a zone kept by a keeper whose supervisor was killed,
// with a re-attach socket, is served by its keeper and taken back, never
// stopped (test/50.supervisor.handlers.test.ts "fail closed and re-attach");
// the daemon killed with SIGKILL and replaced, zones re-attached, a zone that
// died meanwhile cleaned (test/81.daemon.restart.test.ts); halt through the
// CLI of a zone ignoring SIGTERM (test/80.lifecycle.verbs.test.ts).
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LxzoneError } from '../src/errors.js';
import type { ZoneEvent } from '../src/zone/events.js';
import { startZone, type RunningZone } from '../src/zone/run.js';
import { ZoneStore } from '../src/zone/state/store.js';
import { isAlive } from '../src/zone/state/proc.js';
import { leakCheckedLifecycle } from './support/leak-checked.js';
import { expectNoLeaks, leakSnapshot, leaksSince } from './support/leaks.js';
import { waitFor } from './support/lifecycle-env.js';
import { repoRoot, runCli } from './support/zones.js';
import { describeUnless, rootOnly } from './support/skip.js';

const isRoot = process.getuid?.() === 0;
const { env, work, lifecycle, manager, managerLog, leakOpts, baseline, rebaseline } = await leakCheckedLifecycle(72, { timeoutMs: 8000, checkAfterEachTest: true });

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie is dead for our purposes (its parent reaps it soon).
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

/** Every descendant of `pid` (the processes of a zone, seen from the host). */
function descendants(pid: number): number[] {
  const out: number[] = [];
  const walk = (p: number): void => {
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      return;
    }
    for (const t of tasks) {
      let kids: string[] = [];
      try {
        kids = readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
      } catch {}
      for (const k of kids) {
        out.push(Number(k));
        walk(Number(k));
      }
    }
  };
  walk(pid);
  return out;
}

/**
 * A killed one-shot launcher leaves its host id claims (runtime dir, ids/<slot>)
 * with a dead holder: the next zone wanting such a slot reclaims it. Checks
 * that every claim left since the baseline is stale, and removes them.
 */
function dropStaleClaims(): void {
  const left = leaksSince(baseline(), leakSnapshot(leakOpts()), leakOpts());
  for (const c of (left.files ?? []).filter((f) => /\/ids\/\d+$/.test(f))) {
    expect(isAlive(JSON.parse(readFileSync(c, 'utf8'))), c).toBe(false);
    rmSync(c);
  }
}

/** SigIgn in /proc/PID/status has SIGTERM's bit. */
function ignoresSigterm(pid: number): boolean {
  try {
    const m = /^SigIgn:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m !== null && (BigInt(`0x${m[1]}`) & (1n << 14n)) !== 0n;
  } catch {
    return false;
  }
}

async function allGone(pids: number[], ms = 8000): Promise<number[]> {
  await waitFor(() => pids.every((p) => !alive(p)), ms, 50);
  return pids.filter(alive);
}

/** A zone started here whose binary runs (the 'started' event came). */
async function started(o: Parameters<typeof startZone>[0]): Promise<{ zone: RunningZone; initPid: number }> {
  let ran!: () => void;
  const running = new Promise<void>((r) => (ran = r));
  const zone = startZone({ stdio: 'pipe', ...o, onEvent: (ev: ZoneEvent) => ev.type === 'started' && ran() });
  const initPid = await zone.initPid;
  const ended = zone.wait().then(
    () => 'ended' as const,
    () => 'ended' as const,
  );
  if ((await Promise.race([running.then(() => 'running' as const), ended])) === 'ended') throw new Error('the zone ended before it started');
  return { zone, initPid };
}

const LOOP = 'while :; do sleep 0.1; done';
/** A zone process that stays (the loop's sleeps come and go). */
const STAY = `sleep 60 & ${LOOP}`;

describeUnless(rootOnly(), 'SIGKILL of the launcher (the supervisor runs in its process)', () => {
  it('one-shot zones die with it: keepers, inits and every zone process; only its id claims stay, stale', async () => {
    const script = `
      import { startZone } from ${JSON.stringify(join(repoRoot, 'src', 'zone', 'run.ts'))};
      const zones = [0, 1, 2].map(() => {
        let ran; const running = new Promise((r) => (ran = r));
        const zone = startZone({ argv: ['/bin/sh', '-c', 'sleep 60 & sleep 60 & wait'], stdio: 'pipe', onEvent: (e) => e.type === 'started' && ran() });
        return { zone, running };
      });
      const info = [];
      for (const z of zones) { await z.running; info.push({ keeperPid: z.zone.keeperPid, initPid: await z.zone.initPid }); }
      console.log(JSON.stringify(info));
      setInterval(() => {}, 1 << 30);`;
    const launcher = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    const info = await new Promise<{ keeperPid: number; initPid: number }[]>((resolve, reject) => {
      let buf = '';
      launcher.stdout!.on('data', (d) => {
        buf += d;
        if (buf.includes('\n')) resolve(JSON.parse(buf));
      });
      launcher.on('exit', (code) => reject(new Error(`launcher exited ${code} before its zones ran`)));
    });
    // Each zone: keeper -> init (reaper) -> sh -> two sleeps.
    await sleep(200);
    const zoneProcs = info.flatMap((z) => [z.keeperPid, z.initPid, ...descendants(z.initPid)]);
    expect(zoneProcs.length).toBeGreaterThanOrEqual(3 * 5);
    expect(zoneProcs.every(alive)).toBe(true);

    launcher.kill('SIGKILL');
    expect(await allGone(zoneProcs)).toEqual([]);
    // Only the launcher's id claims stay (stale); nothing else is left.
    dropStaleClaims();
    await expectNoLeaks(baseline(), leakOpts());
  });

  // BUG (src/cli/run.ts + src/zone/run-resources.ts): `lxzone run` with caps
  // makes a cgroup "<own cgroup>/lxzone/run-<pid>-<hex>" and removes it in a
  // finally block; a SIGKILLed CLI never runs it, and nothing else ever
  // removes such a cgroup (empty, in every hierarchy). Suggested fix: at the
  // next createRunCaps, rmdir run-<pid>-* cgroups with no task whose pid is
  // not alive (or place one-shot cgroups under a parent pruned the same way).
  it('`lxzone run --memory` killed: its zone dies with it, and its cgroup does not outlive it', async () => {
    let cliPid = 0;
    const run = runCli(['run', '--memory', '32m', '--network', 'none', '--', '/bin/sh', '-c', 'echo up; sleep 60'], {
      timeoutMs: 60_000,
      onSpawn: (pid) => (cliPid = pid),
    });
    const cgroupsOf = () => leakSnapshot().cgroups.filter((c) => c.includes(`/run-${cliPid}-`));
    await waitFor(() => cliPid > 0 && cgroupsOf().length > 0, 20_000);
    const cg = cgroupsOf();
    expect(cg.length).toBeGreaterThan(0);
    const memDir = join('/sys/fs/cgroup', cg.find((c) => c.startsWith('memory:'))!.replace(/^memory:/, 'memory'));
    // The zone's processes are in it once it runs.
    const procs = await waitFor(() => {
      const p = readFileSync(join(memDir, 'cgroup.procs'), 'utf8').trim().split('\n').filter(Boolean).map(Number);
      return p.length >= 2 ? p : undefined;
    }, 20_000);
    expect(procs).toBeDefined();
    process.kill(cliPid, 'SIGKILL');
    await run;
    expect(await allGone(procs!)).toEqual([]);
    dropStaleClaims();
    try {
      // Give any cleanup a fair chance: the next `lxzone run` with caps.
      const again = await runCli(['run', '--memory', '32m', '--network', 'none', '--', '/bin/true'], { timeoutMs: 60_000 });
      expect(again.code).toBe(0);
      expect(cgroupsOf()).toEqual([]);
    } finally {
      for (const c of cgroupsOf()) rmdirSync(join('/sys/fs/cgroup', c.replace(':', '')));
    }
  });
});

describeUnless(rootOnly(), 'SIGKILL of a zone keeper', () => {
  it('one-shot: the zone dies with it; wait() says the keeper was killed (137)', async () => {
    const { zone, initPid } = await started({ argv: ['/bin/sh', '-c', STAY] });
    await sleep(100);
    const procs = [zone.keeperPid, initPid, ...descendants(initPid)];
    expect(procs.length).toBeGreaterThanOrEqual(4);
    process.kill(zone.keeperPid, 'SIGKILL');
    const e = await zone.wait().then(
      () => undefined,
      (err: unknown) => err as LxzoneError,
    );
    expect(e).toBeInstanceOf(LxzoneError);
    expect(e!.message).toBe("the zone's keeper was killed by SIGKILL");
    expect(e!.exitCode).toBe(137);
    expect(await allGone(procs)).toEqual([]);
  });

  // BUG (src/zone/lifecycle/manager.ts onEnd / host-setup.ts cleanupHost):
  // a keeper killed by SIGKILL cannot unlink its re-attach socket
  // (<runtime>/zones/<name>.sock), and nothing else does, not even destroy:
  // the file stays until a zone of that name boots again (the keeper unlinks
  // before bind). Unlink it in onEnd once the keeper is gone.
  it('daemon-managed: the manager records the end and removes the cgroup, veth, runtime record and socket', async () => {
    await lifecycle.createZone({ name: 'kk', rootfs: { type: 'host' }, command: ['/bin/sh', '-c', LOOP], network: { mode: 'zone' }, resources: { memoryBytes: 64 << 20 } });
    const info = await manager().boot('kk');
    const procs = [info.keeperPid!, info.pid!, ...descendants(info.pid!)];
    process.kill(info.keeperPid!, 'SIGKILL');
    expect(await allGone(procs)).toEqual([]);
    const after = await waitFor(async () => {
      const i = await manager().info('kk');
      return i.state === 'stopped' && i.lastExit ? i : undefined;
    });
    expect(after?.lastExit).toMatchObject({ exitCode: 137, error: "the zone's keeper was killed by SIGKILL", haltedByUs: false });
    await manager().destroy('kk');
  });
});

describeUnless(rootOnly(), "SIGKILL of a zone's init", () => {
  for (const init of [true, false]) {
    it(`${init ? 'the reaper' : 'the binary as pid 1'}: the zone ends, the keeper reports 137 (SIGKILL)`, async () => {
      const { zone, initPid } = await started({ argv: ['/bin/sh', '-c', STAY], init });
      const procs = [zone.keeperPid, initPid, ...descendants(initPid)];
      process.kill(initPid, 'SIGKILL');
      const r = await zone.wait();
      expect(r).toMatchObject({ exitCode: 137, signal: 'SIGKILL' });
      // The kernel kills the rest of the pid namespace with its init; the keeper exits with the status.
      expect(await allGone(procs)).toEqual([]);
    });
  }

  it('daemon-managed: recorded as 137 (SIGKILL), host side removed', async () => {
    await lifecycle.createZone({ name: 'ik', rootfs: { type: 'host' }, command: ['/bin/sh', '-c', LOOP], network: { mode: 'zone' }, resources: { memoryBytes: 64 << 20 } });
    const info = await manager().boot('ik');
    process.kill(info.pid!, 'SIGKILL');
    const after = await waitFor(async () => {
      const i = await manager().info('ik');
      return i.state === 'stopped' && i.lastExit ? i : undefined;
    });
    expect(after?.lastExit).toMatchObject({ exitCode: 137, signal: 'SIGKILL', haltedByUs: false });
    await manager().destroy('ik');
  });
});

describeUnless(rootOnly(), 'a zone that ignores SIGTERM', () => {
  const STUBBORN = ['/bin/sh', '-c', `trap "" TERM; ${STAY}`];

  it("RunningZone.kill('SIGTERM') changes nothing; SIGKILL ends it (137)", async () => {
    for (const init of [true, false]) {
      const { zone, initPid } = await started({ argv: STUBBORN, init });
      // The shell ignores SIGTERM once its trap has run (exec'd is not enough: a SIGTERM before it ends the zone).
      const shell = init ? descendants(initPid)[0]! : initPid;
      expect(await waitFor(() => ignoresSigterm(shell), 5000, 20)).toBe(true);
      const procs = [zone.keeperPid, initPid, ...descendants(initPid)];
      let ended = false;
      const result = zone.wait().finally(() => (ended = true));
      zone.kill('SIGTERM');
      await sleep(1500);
      expect(ended, `init ${init}`).toBe(false);
      expect([zone.keeperPid, initPid].every(alive)).toBe(true);
      zone.kill('SIGKILL');
      expect(await result).toMatchObject({ exitCode: 137, signal: 'SIGKILL' });
      expect(await allGone(procs)).toEqual([]);
    }
  });

  it('halt: SIGTERM, the grace period, then SIGKILL; the host side is removed', async () => {
    await lifecycle.createZone({ name: 'stub', rootfs: { type: 'host' }, command: STUBBORN, network: { mode: 'zone' }, resources: { memoryBytes: 64 << 20 } });
    const info = await manager().boot('stub');
    expect(await waitFor(() => ignoresSigterm(descendants(info.pid!)[0] ?? 0), 5000, 20)).toBe(true);
    const procs = [info.keeperPid!, info.pid!, ...descendants(info.pid!)];
    const t0 = Date.now();
    const halted = await manager().halt('stub', { timeoutMs: 1000 });
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(1000);
    expect(took).toBeLessThan(8000);
    expect(halted).toMatchObject({ state: 'stopped', lastExit: { exitCode: 137, signal: 'SIGKILL', haltedByUs: true } });
    expect(managerLog.some((l) => l === 'zone stub: still running after 1000 ms; SIGKILL')).toBe(true);
    expect(await allGone(procs)).toEqual([]);
    await manager().destroy('stub');
  });
});

describeUnless(rootOnly(), 'a full disk under the state directory', () => {
  let small: string;
  let store: ZoneStore;
  let full: InstanceType<typeof lifecycle.ZoneManager>;
  const fullLog: string[] = [];
  let fills = 0;
  const fill = (): void => {
    try {
      for (;;) writeFileSync(join(small, `fill${fills++}`), Buffer.alloc(4096));
    } catch (e) {
      expect((e as NodeJS.ErrnoException).code).toBe('ENOSPC');
    }
  };
  const unfill = (): void => {
    for (let i = 0; i < fills; i++) rmSync(join(small, `fill${i}`), { force: true });
    fills = 0;
  };
  const files = (dir: string) => leakSnapshot({ dirs: [dir] }).files.filter((f) => !/\/fill\d+$/.test(f));

  beforeAll(() => {
    if (!isRoot) return;
    small = join(work, 'small');
    mkdirSync(small);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', small]);
    store = new ZoneStore({ stateDir: join(small, 'state'), runtimeDir: env.runtimeDir });
    mkdirSync(join(small, 'state', 'zones'), { recursive: true, mode: 0o700 });
    full = new lifecycle.ZoneManager(lifecycle.lifecycleOptionsFromEnv(process.env, { store }), (m) => fullLog.push(m));
    rebaseline(); // the small disk's mount is this block's, not a leak
  });
  afterAll(async () => {
    if (!isRoot) return;
    await full?.close({ haltZones: true });
    execFileSync('umount', ['-l', small]);
  });

  const zone = (name: string, command: string[]) => ({ name, rootfs: { type: 'host' }, command, network: { mode: 'loopback' } });

  // BUG (src/zone/state/store.ts saveConfig, src/zone/lifecycle/create.ts):
  // saveConfig makes zones/<name>/ before it writes config.json, and create
  // calls it outside the try that removes a half-made zone: on ENOSPC the
  // error is clear and the zone is not listed, but an empty zones/<name>/ is
  // left. Fix: remove the directory when the first write of a new zone fails.
  it('create is refused, naming the file; nothing of the zone is stored', async () => {
    fill();
    try {
      const e = await lifecycle.createZone(zone('late', ['/bin/true']), { store }).then(
        () => undefined,
        (err: unknown) => err as LxzoneError,
      );
      expect(e).toBeInstanceOf(LxzoneError);
      expect(e!.message).toBe(`cannot write ${join(small, 'state', 'zones', 'late', 'config.json')}: no space left on the device (the previous version is kept)`);
      expect(store.list()).toEqual([]);
      expect(readdirSync(join(small, 'state', 'zones'))).toEqual([]);
    } finally {
      unfill();
      rmSync(join(small, 'state', 'zones', 'late'), { recursive: true, force: true });
    }
  });

  it('a zone created before boots and runs on though its log cannot be written; halt and destroy work', async () => {
    await lifecycle.createZone(zone('early', ['/bin/sh', '-c', `echo hello || exit 42; ${LOOP}`]), { store });
    await lifecycle.createZone(zone('early2', ['/bin/sh', '-c', LOOP]), { store });
    const before = files(small);
    fill();
    try {
      // The zone writes to a pipe of its keeper's, which writes the log (issue 14.6): a full
      // disk costs the log its lines, never the zone its output calls (echo succeeds, no exit 42).
      const a = await full.boot('early');
      expect(a.state).toBe('running');
      await new Promise((r) => setTimeout(r, 1000));
      const i = await full.info('early');
      expect(i.state, JSON.stringify(i.lastExit)).toBe('running');
      expect(await full.halt('early', { timeoutMs: 2000 })).toMatchObject({ state: 'stopped', lastExit: { haltedByUs: true } });
      // One that runs on: the desired state cannot be recorded (logged), halt works.
      await full.boot('early2');
      expect(fullLog.some((l) => l.startsWith('zone early2: cannot record desired state: cannot write') && l.includes('no space left'))).toBe(true);
      const halted = await full.halt('early2', { timeoutMs: 2000 });
      expect(halted).toMatchObject({ state: 'stopped', lastExit: { haltedByUs: true } });
      // Destroy frees the zone's space even on a full disk.
      await full.destroy('early');
      await full.destroy('early2');
      expect(store.list()).toEqual([]);
    } finally {
      unfill();
    }
    // Once space is back, nothing of the zones is left (the IPAM file, made by the
    // first release, is the installation's), no lock or temp file either, and writes work again.
    expect(files(join(small, 'state', 'zones'))).toEqual([]);
    expect(files(small).filter((f) => !before.includes(f) && !/\/network\/(ipam-[\w.-]+\.json)?$/.test(f))).toEqual([]);
    await lifecycle.createZone(zone('again', ['/bin/true']), { store });
    await full.destroy('again');
  });

  it('with the runtime directory full too, boot is refused before anything runs', async () => {
    const both = new ZoneStore({ stateDir: join(small, 'state2'), runtimeDir: join(small, 'run2') });
    const m = new lifecycle.ZoneManager(lifecycle.lifecycleOptionsFromEnv(process.env, { store: both }), () => undefined);
    await lifecycle.createZone({ ...zone('both', ['/bin/sh', '-c', LOOP]), network: { mode: 'zone' }, resources: { memoryBytes: 64 << 20 } }, { store: both });
    const before = leakSnapshot(leakOpts());
    fill();
    try {
      const e = await m.boot('both').then(
        () => undefined,
        (err: unknown) => err as Error,
      );
      expect(e?.message).toMatch(/no space left/i);
      expect((await m.info('both')).state).toBe('stopped');
      // No keeper started, no cgroup or veth made.
      expect(leaksSince(before, leakSnapshot(leakOpts()), { ...leakOpts(), skip: ['files'] })).toEqual({});
    } finally {
      unfill();
      await m.destroy('both');
      await m.close();
      rmSync(join(small, 'state2'), { recursive: true, force: true });
      rmSync(join(small, 'run2'), { recursive: true, force: true });
    }
  });
});
