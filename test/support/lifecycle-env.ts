// A private lxzone installation for lifecycle and daemon tests: its own state
// and runtime directories, bridge, subnet and cgroup parent, set in this test
// process's environment (the CLI and the daemons it starts inherit them), and
// a cleanup that removes every zone, keeper, cgroup, veth, bridge and daemon
// it made, even after a failed test.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, vi } from 'vitest';
import { detectCgroups, pruneCgroupParent } from '../../src/zone/cgroups/index.js';
import { removeBridge } from '../../src/zone/network/index.js';
import { NetworkStore } from '../../src/zone/network/networks.js';
import { stopProcView } from '../../src/zone/procview/index.js';
import type { ZoneDetails, ZoneInfo } from '../../src/zone/lifecycle/types.js';
import { isAlive } from '../../src/zone/state/proc.js';
import { ZoneStore } from '../../src/zone/state/store.js';
import { staleBuild } from './runtime-tools.js';
import { repoRoot, runCli as runCliAs, SOURCE_CLI, type CliResult } from './zones.js';

export interface LifecycleEnv {
  base: string;
  stateDir: string;
  runtimeDir: string;
  bridge: { name: string; subnet: string };
  /** The subnet's first three octets with a trailing dot, e.g. "10.215.17.". */
  net: string;
  cgroupParent: string;
  procviewMount: string;
  store: ZoneStore;
  /** `lxzone ARGS` as a user runs it, with this environment (from source, or built: builtCli). */
  cli(args: string[], opts?: { timeoutMs?: number; input?: string }): Promise<CliResult>;
  /** `lxzone ARGS` that must succeed (else throws with its stderr); its stdout. */
  ok(args: string[]): Promise<string>;
  /** `lxzone list --json`. */
  list(): Promise<ZoneInfo[]>;
  /** `lxzone inspect NAME`. */
  inspect(name: string): Promise<ZoneDetails>;
  /** Pid of the daemon holding the lock, if one is alive. */
  daemonPid(): number | undefined;
  /** After each test: every zone destroyed, the daemon stopped, leftover keepers killed. */
  reset(): Promise<void>;
  /** After all tests: reset, then the bridge, cgroup parent, LXCFS and directories removed. */
  cleanup(): Promise<void>;
}

/**
 * The CLI a file that asks for it (builtCli) runs: bin/lxzone.js, the
 * bundle users run, when dist/ is at least as new as every source file; else
 * the source through tsx, as runCli runs it by default. A call through tsx
 * costs seconds of CPU compiling the CLI, and so does the daemon it starts
 * (started as the CLI that starts it runs: from source by a CLI from
 * source); on a loaded 2-core host that is most of a lifecycle file's time.
 */
export function builtCliEntry(): string[] {
  return staleBuild('lxzone') === undefined ? [join(repoRoot, 'bin', 'lxzone.js')] : SOURCE_CLI;
}

/**
 * `tag` is 2 digits, unique per test file. The bridge and subnet also carry
 * this process's pid, so two runs of the same file (two checkouts, a CI run
 * beside a developer's) never share a bridge, veth names or addresses:
 * bridge lxz<tag>-<pid hex>, subnet 10.<100 + tag>.<pid % 256>.0/24: a second octet of
 * its own per tag (10.1xx: no other test or default range uses it), so two files
 * running at once meet only if they share a tag and pid % 256.
 */
export function lifecycleEnv(tag: number, o: { procview?: boolean; builtCli?: boolean } = {}): LifecycleEnv {
  const base = mkdtempSync(`/tmp/lxz${tag}-`);
  chmodSync(base, 0o700);
  const stateDir = join(base, 'state');
  const runtimeDir = join(base, 'run');
  const bridge = { name: `lxz${tag}-${(process.pid % 4096).toString(16)}`, subnet: `10.${100 + tag}.${process.pid % 256}.0/24` };
  const cgroupParent = join(detectCgroups().ownPath, `lxzone-t${tag}-${process.pid}`);
  const procviewMount = join(base, 'lxcfs');
  Object.assign(process.env, {
    LXZONE_STATE_DIR: stateDir,
    LXZONE_RUNTIME_DIR: runtimeDir,
    LXZONE_BRIDGE: bridge.name,
    LXZONE_SUBNET: bridge.subnet,
    LXZONE_CGROUP_PARENT: cgroupParent,
    LXZONE_HALT_TIMEOUT_MS: '3000',
    LXZONE_REATTACH_TIMEOUT: '60',
    LXZONE_PROCVIEW: o.procview ? '1' : '0',
    LXZONE_PROCVIEW_MOUNT: procviewMount,
  });
  const store = new ZoneStore({ stateDir, runtimeDir });
  const entry = o.builtCli ? builtCliEntry() : SOURCE_CLI;
  const runCli = (args: string[], opts: Parameters<typeof runCliAs>[1] = {}): Promise<CliResult> => runCliAs(args, { ...opts, entry });

  const daemonPid = (): number | undefined => {
    try {
      const h = JSON.parse(readFileSync(join(runtimeDir, 'daemon.lock'), 'utf8')) as { pid: number; startTime: number; bootId: string };
      return isAlive(h) ? h.pid : undefined;
    } catch {
      return undefined;
    }
  };

  const reset = async (): Promise<void> => {
    // Through the daemon first: it halts zones and cleans their host side.
    if (existsSync(join(runtimeDir, 'daemon.sock')) || store.list().length > 0) {
      for (const name of store.list()) await runCli(['destroy', '--force', name], { timeoutMs: 30_000 });
      await runCli(['daemon', 'stop', '--halt-zones'], { timeoutMs: 30_000 });
    }
    for (let i = 0; i < 50 && daemonPid() !== undefined; i++) await sleep(100);
    const pid = daemonPid();
    if (pid) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
    // Whatever is left: keepers named by runtime records.
    const zonesDir = join(runtimeDir, 'zones');
    if (existsSync(zonesDir)) {
      for (const f of readdirSync(zonesDir).filter((n) => n.endsWith('.json'))) {
        try {
          const rec = JSON.parse(readFileSync(join(zonesDir, f), 'utf8')) as { pid: number; startTime: number; bootId: string };
          if (isAlive(rec)) process.kill(rec.pid, 'SIGKILL');
        } catch {}
      }
    }
  };

  const cleanup = async (): Promise<void> => {
    await reset();
    await sleep(200);
    const host = detectCgroups();
    for (const root of new Set(host.v1Mounts.values())) {
      const dir = join(root, cgroupParent);
      if (!existsSync(dir)) continue;
      for (const z of readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory())) {
        for (const p of readFileSync(join(dir, z.name, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
          try {
            process.kill(Number(p), 'SIGKILL');
          } catch {}
        }
        await sleep(50);
        try {
          rmdirSync(join(dir, z.name));
        } catch {}
      }
    }
    await pruneCgroupParent(cgroupParent).catch(() => undefined);
    await removeBridge(bridge, { force: true }).catch(() => undefined);
    // User-defined networks a test left: their bridges (and nftables tables) go with the test's state.
    const nets = new NetworkStore(join(stateDir, 'network'));
    for (const rec of (() => { try { return nets.list(); } catch { return []; } })()) await nets.remove(rec.name, []).catch(() => undefined);
    if (o.procview) await stopProcView({ mountpoint: procviewMount }).catch(() => undefined);
    rmSync(base, { recursive: true, force: true });
  };

  const ok = async (args: string[]): Promise<string> => {
    const r = await runCli(args);
    if (r.code !== 0) throw new Error(`lxzone ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  };

  return {
    base,
    stateDir,
    runtimeDir,
    bridge,
    net: bridge.subnet.replace(/0\/24$/, ''),
    cgroupParent,
    procviewMount,
    store,
    cli: (args, opts) => runCli(args, opts),
    ok,
    list: async () => JSON.parse(await ok(['list', '--json'])) as ZoneInfo[],
    inspect: async (name) => JSON.parse(await ok(['inspect', name])) as ZoneDetails,
    daemonPid,
    reset,
    cleanup,
  };
}

/**
 * lifecycleEnv for a test file of real zones driven through the CLI: every
 * test starts from an empty installation (`afterReset` runs once the zones
 * and daemon of the test are gone), and all of it is removed after the file.
 */
export function useLifecycleEnv(tag: number, o: { procview?: boolean; builtCli?: boolean; afterReset?: () => void | Promise<void> } = {}): LifecycleEnv {
  const env = lifecycleEnv(tag, { procview: o.procview, builtCli: o.builtCli });
  // Real zones through a CLI and a daemon: slow on a loaded 2-core host.
  vi.setConfig({ testTimeout: 180_000, hookTimeout: 180_000 });
  afterEach(async () => {
    await env.reset();
    await o.afterReset?.();
  });
  afterAll(async () => {
    await env.cleanup();
  });
  return env;
}

/** Polls `fn` until it returns a truthy value or `ms` pass; returns the last value. */
export async function waitFor<T>(fn: () => T | Promise<T>, ms = 60_000, every = 100): Promise<T> {
  const deadline = Date.now() + ms;
  let v = await fn();
  while (!v && Date.now() < deadline) {
    await sleep(every);
    v = await fn();
  }
  return v;
}

export function hostLinks(): string[] {
  return (JSON.parse(execFileSync('ip', ['-j', 'link', 'show']).toString()) as { ifname: string }[]).map((l) => l.ifname);
}
