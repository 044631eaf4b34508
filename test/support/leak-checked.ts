// The security tests' setup: an installation of their own (lifecycle-env.ts),
// a ZoneManager in this process, and the host held to "nothing left behind"
// (leaks.ts) after every test, or, for tests that take their own snapshots,
// only the scope those snapshots must be compared in.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import type * as Lifecycle from '../../src/zone/lifecycle/index.js';
import { runZone } from '../../src/zone/run.js';
import { expectNoLeaks, leakSnapshot, type LeakCheckOptions, type LeakSnapshot } from './leaks.js';
import { lifecycleEnv, waitFor, type LifecycleEnv } from './lifecycle-env.js';

export interface LeakCheckedOptions {
  /** How long teardown may take before what is left counts as leaked. */
  timeoutMs: number;
  /**
   * Warm up, take a baseline, and check it after every test (then take a new
   * one, so one test's leak is reported once, not again by every test after it).
   * Off for tests that take their own snapshot right before what they measure.
   */
  checkAfterEachTest: boolean;
}

export interface LeakCheckedLifecycle {
  env: LifecycleEnv;
  /** Scratch directory of this test file; its mounts count as ours. */
  work: string;
  /** src/zone/lifecycle, imported once lifecycleEnv has set the environment it reads. */
  lifecycle: typeof Lifecycle;
  /** The manager made before all tests (as root only). */
  manager(): Lifecycle.ZoneManager;
  managerLog: string[];
  /** The last path element of the cgroup parent: a cgroup is ours if it carries it. */
  cgroupTag: string;
  /** What counts: our state and runtime files, and of the shared host only our bridge, cgroups and mounts. */
  leakOpts(): LeakCheckOptions;
  /** The snapshot the after-each check compares with. */
  baseline(): LeakSnapshot;
  /** What is on the host now is not a leak (say, a mount a block of tests keeps). */
  rebaseline(): void;
}

/** `tag`: the test file's number, as lifecycleEnv takes it. Registers the hooks; call at the top level. */
export async function leakCheckedLifecycle(tag: number, o: LeakCheckedOptions): Promise<LeakCheckedLifecycle> {
  const isRoot = process.getuid?.() === 0;
  const env = lifecycleEnv(tag);
  const work = mkdtempSync(join(tmpdir(), `lxz-${tag}-`));
  const lifecycle = await import('../../src/zone/lifecycle/index.js');
  let manager: Lifecycle.ZoneManager | undefined;
  const managerLog: string[] = [];

  const cgroupTag = env.cgroupParent.split('/').pop()!;
  /** Mounts under another test run's scratch directory (/tmp/lxz<NN>-…, /tmp/lxz-<NN>…) are not ours to count. */
  const ours = (m: string): boolean => !/^\/tmp\/lxz-?\d+/.test(m) || m.startsWith(env.base) || m.startsWith(work);
  const leakOpts = (): LeakCheckOptions => ({
    dirs: [env.stateDir, env.runtimeDir],
    scope: { links: (l) => l.includes(env.bridge.name), cgroups: (c) => c.includes(cgroupTag), mounts: ours },
    timeoutMs: o.timeoutMs,
  });
  let baseline: LeakSnapshot | undefined;
  const rebaseline = (): void => {
    baseline = leakSnapshot(leakOpts());
  };

  beforeAll(async () => {
    if (!isRoot) return;
    if (o.checkAfterEachTest) {
      // Warm up what lives as long as this process or this installation: the
      // supervisor's thread and fds, the bridge, the cgroup parent, the IPAM file.
      await runZone({ argv: ['/bin/true'], stdio: 'pipe' });
    }
    const m = (manager = new lifecycle.ZoneManager(lifecycle.lifecycleOptionsFromEnv(), (line) => managerLog.push(line)));
    if (o.checkAfterEachTest) {
      await lifecycle.createZone({ name: 'warm', rootfs: { type: 'host' }, command: ['/bin/true'], network: { mode: 'zone' }, resources: { memoryBytes: 64 << 20 } });
      await m.boot('warm');
      await waitFor(async () => (await m.info('warm')).state === 'stopped');
      await m.destroy('warm');
      rebaseline();
    }
  });

  if (o.checkAfterEachTest) {
    afterEach(async () => {
      if (!isRoot) return;
      try {
        await expectNoLeaks(baseline!, leakOpts());
      } finally {
        rebaseline();
      }
    });
  }

  afterAll(async () => {
    if (isRoot) await manager?.close({ haltZones: true });
    await env.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  return {
    env,
    work,
    lifecycle,
    manager: () => madeBeforeAll(manager, 'zone manager'),
    managerLog,
    cgroupTag,
    leakOpts,
    baseline: () => madeBeforeAll(baseline, 'leak baseline (checkAfterEachTest)'),
    rebaseline,
  };
}

/** A test that runs without what beforeAll makes (not root, or beforeAll failed) fails naming it. */
function madeBeforeAll<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`no ${what}: it is made before all tests, as root only`);
  return value;
}
