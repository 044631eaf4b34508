// Issue 9 item 3: start to exit of /bin/true. lxzone through the TypeScript
// API (in this process: policy compile, shim spawn, namespaces, mounts,
// seccomp, exec, exit, teardown) and through the CLI (a fresh node process),
// next to bwrap with the same namespaces and an equivalent mount set, proot,
// and a plain spawn. Same minimal root (busybox) for all, variants
// interleaved round by round.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { makeBusyboxRoot } from '../../test/support/zones.js';
import { progress, repoRoot, timeSpawn, which } from '../lib/exec.js';
import type { SectionContext } from '../lib/section.js';
import { ratio, ratiosTo, row } from '../lib/stats.js';
import { checkAtMost } from '../lib/section.js';
import type { Row } from '../lib/types.js';
import { ApiWorker } from './start-api.js';

const NAME = '/bin/true start to exit';

const PHASE_NOTES: Record<string, string> = {
  'compilePolicy() alone': 'the default profile to BPF + dispatch table; startZone() keeps what it compiled by content, so it pays this once per process',
  'startZone() returned': 'policy from the per-process cache, config encoded, shim started with posix_spawn (no fork of this process)',
  'event created': "the shim has cloned the zone's init (new namespaces)",
  'event ready': 'mounts, pivot_root, user namespace, id maps, seccomp: the listener fd reached the supervisor',
  'event started': 'the binary was exec\'d',
  'event exited': 'the binary exited; the keeper reported it',
  'event closed': "the keeper exited and closed the control socket; wait() resolves after this",
};

/**
 * bwrap's closest equivalent of a zone with a loopback-only network: every
 * namespace bwrap has (user, pid, net with lo up, ipc, uts, cgroup), the root
 * read-only, fresh /proc, /dev (tmpfs + devices + devpts + shm), mqueue,
 * /sys read-only (a zone mounts a fresh read-only sysfs; bwrap can only bind
 * it), tmpfs /tmp and /run, hostname, die-with-parent.
 */
export function bwrapArgv(bwrap: string, root: string, cmd: string[]): string[] {
  return [
    bwrap, '--unshare-all', '--die-with-parent', '--hostname', 'lxzone',
    '--ro-bind', root, '/', '--proc', '/proc', '--dev', '/dev', '--mqueue', '/dev/mqueue',
    '--ro-bind', '/sys', '/sys', '--tmpfs', '/tmp', '--tmpfs', '/run', '--chdir', '/',
    '--', ...cmd,
  ];
}

/** proot: ptrace-based, no namespaces; the same root with /proc and /dev bound in. */
export function prootArgv(proot: string, root: string, cmd: string[]): string[] {
  return [proot, '-r', root, '-b', '/proc', '-b', '/dev', '-w', '/', ...cmd];
}

/**
 * The CLI as installed: bin/lxzone, which hands a plain `run` to the native
 * front end (build/Release/lxzone-front: docs/parts/fast-run.md); without it
 * (not built), bin/lxzone.js through Node.
 */
function cliArgv(): { argv: string[]; how: string } {
  if (existsSync(join(repoRoot, 'bin', 'lxzone')) && existsSync(join(repoRoot, 'build', 'Release', 'lxzone-front'))) {
    return { argv: [join(repoRoot, 'bin', 'lxzone')], how: 'bin/lxzone (the native front end, as installed)' };
  }
  return nodeCliArgv();
}

/** The CLI through Node (bin/lxzone.js -> dist/cli-bundle/, or dist/cli/ without a bundle), or from source through tsx when dist/ is not built. */
function nodeCliArgv(): { argv: string[]; how: string } {
  if (existsSync(join(repoRoot, 'dist', 'cli-bundle', 'verbs.json'))) {
    return { argv: [process.execPath, join(repoRoot, 'bin', 'lxzone.js')], how: 'node bin/lxzone.js (dist/cli-bundle/)' };
  }
  if (existsSync(join(repoRoot, 'dist', 'cli', 'main.js'))) {
    return { argv: [process.execPath, join(repoRoot, 'bin', 'lxzone.js')], how: 'node bin/lxzone.js (dist/cli/: not bundled, slower than the installed CLI)' };
  }
  return {
    argv: [process.execPath, '--import', 'tsx', join(repoRoot, 'test', 'support', 'cli-entry.ts')],
    how: 'from source through tsx (dist/ not built: slower than the installed CLI)',
  };
}

export async function start(ctx: SectionContext): Promise<void> {
  const { opts } = ctx;
  const root = makeBusyboxRoot('lxzone-bench-root-');
  // The API rows and the posix_spawn peer, measured in a process that never
  // forks (start-api.ts says why).
  const worker = ApiWorker.start();
  try {
    const bwrap = which('bwrap');
    const proot = which('proot');
    if (!bwrap) ctx.skip('bwrap not installed (Debian: apt-get install -y bubblewrap)');
    if (!proot) ctx.skip('proot not installed (Debian: apt-get install -y proot)');
    const cli = cliArgv();
    const nodeCli = nodeCliArgv();
    ctx.note(`CLI measured as ${cli.how}; through Node as ${nodeCli.how}`);
    ctx.note('API rows and bwrap through posix_spawn measured in a Node process of their own that never forks (bench/sections/start-api.ts)');
    const t = { native: [] as number[], api: [] as number[], apiHost: [] as number[], bwrap: [] as number[], bwrapPosix: [] as number[], proot: [] as number[], cli: [] as number[], nodeCli: [] as number[], node: [] as number[] };
    // Where an API start's time goes: when startZone() returns (policy
    // compiled, shim spawned), and when each of the keeper's events reaches
    // JavaScript, from the call on (cumulative).
    const phases: Record<string, number[]> = {};
    const api = async (rootfs?: string, record = false): Promise<number> => {
      const r = await worker.request({ op: 'api', rootfs });
      if (record) for (const [name, ms] of Object.entries(r.phases ?? {})) (phases[name] ??= []).push(ms);
      return r.ms;
    };
    // One warm-up of each path (page cache, the addon's first load, the policy cache;
    // the CLI's first plain run writes the launch description the next ones use).
    await api(root);
    await api();
    const cliRun = (argv: string[]): string[] => [...argv, 'run', '--rootfs', root, '--network', 'loopback', '--', '/bin/true'];
    timeSpawn(cliRun(cli.argv));
    for (let r = 0; r < opts.startRuns; r++) {
      if (r % 10 === 0) progress(`start: round ${r + 1}/${opts.startRuns}`);
      t.native.push(timeSpawn([join(root, 'bin', 'busybox'), 'true']));
      t.api.push(await api(root, true));
      (phases['compilePolicy() alone'] ??= []).push((await worker.request({ op: 'compile' })).ms);
      t.apiHost.push(await api());
      if (bwrap) t.bwrap.push(timeSpawn(bwrapArgv(bwrap, root, ['/bin/true'])));
      if (bwrap) t.bwrapPosix.push((await worker.request({ op: 'posix-spawn', argv: bwrapArgv(bwrap, root, ['/bin/true']) })).ms);
      if (proot) t.proot.push(timeSpawn(prootArgv(proot, root, ['/bin/true'])));
      if (r < opts.cliRuns) {
        t.cli.push(timeSpawn(cliRun(cli.argv)));
        t.nodeCli.push(timeSpawn(cliRun(nodeCli.argv)));
        t.node.push(timeSpawn([process.execPath, '-e', '0']));
      }
    }
    const rows: Row[] = [
      row(NAME, 'native', 'ms', t.native, 'spawn + exit from this process, no isolation'),
      row(NAME, 'lxzone API', 'ms', t.api, 'startZone().wait(), minimal root, loopback-only network; in a process that never forks'),
      row(NAME, 'lxzone API, host root', 'ms', t.apiHost, 'startZone().wait(), host root read-only; in a process that never forks'),
      row(NAME, 'lxzone CLI', 'ms', t.cli, `lxzone run --rootfs (${cli.how})`),
      row(NAME, 'node -e 0', 'ms', t.node, "starting node itself (the floor of a CLI in Node)"),
      row(NAME, 'lxzone CLI through Node', 'ms', t.nodeCli, `lxzone run --rootfs (${nodeCli.how}): what the native front end saves`),
    ];
    if (bwrap) rows.push(row(NAME, 'bwrap --unshare-all', 'ms', t.bwrap, 'same namespaces and an equivalent mount set'));
    if (bwrap) rows.push(row(NAME, 'bwrap --unshare-all, posix_spawn', 'ms', t.bwrapPosix, 'the same, started as startZone() starts its shim (posix_spawn, from the API rows\' process)'));
    if (proot) rows.push(row(NAME, 'proot -r', 'ms', t.proot, 'ptrace, no namespaces'));
    ratiosTo(rows, () => rows[0]);
    const order = ['compilePolicy() alone', 'startZone() returned', 'event created', 'event ready', 'event started', 'event exited', 'event closed'];
    for (const name of order.filter((n) => phases[n])) {
      rows.push(row(`  lxzone API: ${name}`, 'lxzone API', 'ms', phases[name]!, PHASE_NOTES[name]));
    }
    ctx.rows.push(...rows);
    const bw = rows.find((r) => r.variant === 'bwrap --unshare-all');
    const apiVsBwrap = ratio(rows[1]!.median, bw?.median);
    ctx.checks.push({ ...checkAtMost('lxzone API start to exit within 0.8x bwrap --unshare-all', apiVsBwrap, 0.8, 'x bwrap'), met: bw ? apiVsBwrap! <= 0.8 : null });
    const bwp = rows.find((r) => r.variant === 'bwrap --unshare-all, posix_spawn');
    const apiVsBwrapPosix = ratio(rows[1]!.median, bwp?.median);
    ctx.checks.push({ ...checkAtMost('same, bwrap started as the shim is (posix_spawn)', apiVsBwrapPosix, 0.8, 'x bwrap'), met: bwp ? apiVsBwrapPosix! <= 0.8 : null });
    ctx.checks.push(checkAtMost('lxzone CLI start to exit within 1.3x node -e 0', ratio(rows[3]!.median, rows[4]!.median), 1.3, 'x node -e 0'));
    ctx.checks.push(checkAtMost('lxzone CLI start to exit of a short program under 150 ms', rows[3]!.median, 150, 'ms'));
  } finally {
    await worker.stop();
    rmSync(root, { recursive: true, force: true });
  }
}
