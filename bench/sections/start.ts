// Issue 9 item 3: start to exit of /bin/true. lxzone through the TypeScript
// API (in this process: policy compile, shim spawn, namespaces, mounts,
// seccomp, exec, exit, teardown) and through the CLI (a fresh node process),
// next to bwrap with the same namespaces and an equivalent mount set, proot,
// and a plain spawn. Same minimal root (busybox) for all, variants
// interleaved round by round.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { makeBusyboxRoot } from '../../test/support/zones.js';
import { runZone } from '../../src/zone/run.js';
import { progress, repoRoot, timeAsync, timeSpawn, which } from '../lib/exec.js';
import type { SectionContext } from '../lib/section.js';
import { ratio, ratiosTo, row } from '../lib/stats.js';
import type { Row } from '../lib/types.js';

const NAME = '/bin/true start to exit';

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

/** The CLI as installed (bin/lxzone.js -> dist/), or from source through tsx when dist/ is not built. */
function cliArgv(): { argv: string[]; how: string } {
  if (existsSync(join(repoRoot, 'dist', 'cli', 'main.js'))) {
    return { argv: [process.execPath, join(repoRoot, 'bin', 'lxzone.js')], how: 'node bin/lxzone.js (dist/)' };
  }
  return {
    argv: [process.execPath, '--import', 'tsx', join(repoRoot, 'test', 'support', 'cli-entry.ts')],
    how: 'from source through tsx (dist/ not built: slower than the installed CLI)',
  };
}

export async function start(ctx: SectionContext): Promise<void> {
  const { opts } = ctx;
  const root = makeBusyboxRoot('lxzone-bench-root-');
  try {
    const bwrap = which('bwrap');
    const proot = which('proot');
    if (!bwrap) ctx.skip('bwrap not installed (Debian: apt-get install -y bubblewrap)');
    if (!proot) ctx.skip('proot not installed (Debian: apt-get install -y proot)');
    const cli = cliArgv();
    ctx.note(`CLI measured as ${cli.how}`);
    const t = { native: [] as number[], api: [] as number[], apiHost: [] as number[], bwrap: [] as number[], proot: [] as number[], cli: [] as number[], node: [] as number[] };
    const api = async (rootfs?: string): Promise<number> => {
      let code = -1;
      const ms = await timeAsync(async () => {
        code = (await runZone({ argv: ['/bin/true'], rootfs, stdio: 'pipe', network: 'loopback' })).exitCode;
      });
      if (code !== 0) throw new Error(`zone /bin/true exited ${code}`);
      return ms;
    };
    // One warm-up of each path (page cache, the addon's first load, the policy cache).
    await api(root);
    await api();
    for (let r = 0; r < opts.startRuns; r++) {
      if (r % 10 === 0) progress(`start: round ${r + 1}/${opts.startRuns}`);
      t.native.push(timeSpawn([join(root, 'bin', 'busybox'), 'true']));
      t.api.push(await api(root));
      t.apiHost.push(await api());
      if (bwrap) t.bwrap.push(timeSpawn(bwrapArgv(bwrap, root, ['/bin/true'])));
      if (proot) t.proot.push(timeSpawn(prootArgv(proot, root, ['/bin/true'])));
      if (r < opts.cliRuns) {
        t.cli.push(timeSpawn([...cli.argv, 'run', '--rootfs', root, '--network', 'loopback', '--', '/bin/true']));
        t.node.push(timeSpawn([process.execPath, '-e', '0']));
      }
    }
    const rows: Row[] = [
      row(NAME, 'native', 'ms', t.native, 'spawn + exit from this process, no isolation'),
      row(NAME, 'lxzone API', 'ms', t.api, 'runZone(), minimal root, loopback-only network'),
      row(NAME, 'lxzone API, host root', 'ms', t.apiHost, 'runZone(), host root read-only'),
      row(NAME, 'lxzone CLI', 'ms', t.cli, `lxzone run --rootfs (${cli.how})`),
      row(NAME, 'node -e 0', 'ms', t.node, "the CLI's floor: starting node itself"),
    ];
    if (bwrap) rows.push(row(NAME, 'bwrap --unshare-all', 'ms', t.bwrap, 'same namespaces and an equivalent mount set'));
    if (proot) rows.push(row(NAME, 'proot -r', 'ms', t.proot, 'ptrace, no namespaces'));
    ratiosTo(rows, () => rows[0]);
    ctx.rows.push(...rows);
    const bw = rows.find((r) => r.variant === 'bwrap --unshare-all');
    ctx.checks.push({
      target: 'lxzone API start to exit faster than bwrap --unshare-all',
      value: ratio(rows[1]!.median, bw?.median),
      unit: 'x bwrap',
      met: bw ? rows[1]!.median! < bw.median! : null,
    });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
