// The native front end of `lxzone run` (docs/parts/fast-run.md): bin/lxzone
// hands a plain run to build/Release/lxzone-front, which starts the zone from
// the launch description Node wrote for the same flags, and otherwise execs
// Node. What a user sees must not depend on which of the two ran the zone:
// the same output, the same stderr line and the same exit status as
// `node bin/lxzone.js run`. LXZONE_DEBUG=1 makes the front end say which it
// chose; every run here uses a runtime directory of the file's own.
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { canonicalLaunchFlags, fnv1a64 } from '../src/cli/launch-description.js';
import { idBaseOfSlot, slotLayout } from '../src/zone/ids.js';
import { processIdentity } from '../src/zone/state/proc.js';
import { checkFrontRunsLeaveNothing, frontCli, inputFilesOf, said, userStderr } from './support/front.js';
import { describeUnless, rootOnly } from './support/skip.js';
import { makeBusyboxRoot, ownTempDir, repoRoot, type CliResult } from './support/zones.js';

const WRAPPER = join(repoRoot, 'bin', 'lxzone');
const FRONT = join(repoRoot, 'build', 'Release', 'lxzone-front');

let dir: string;
let runtime: string;
let rootfs: string;

const { spawnCli, lxzone, viaNode, descriptionOf, withDescription } = frontCli(() => runtime);

describeUnless(rootOnly('zones with one-shot host id ranges'), 'lxzone run through bin/lxzone (lxzone-front)', () => {
  beforeAll(() => {
    dir = ownTempDir(mkdtempSync(join(tmpdir(), 'lxz-front-')));
    // The zone's root (an unprivileged host uid) enters the roots made in it.
    chmodSync(dir, 0o755);
    runtime = join(dir, 'runtime');
    rootfs = makeBusyboxRoot('lxz-front-root-', dir);
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  checkFrontRunsLeaveNothing(() => runtime);

  it('the build made lxzone-front, and bin/lxzone is the npm bin', () => {
    expect(statSync(FRONT).mode & 0o111).not.toBe(0);
    expect(statSync(WRAPPER).mode & 0o111).not.toBe(0);
  });

  it('a first run goes through Node, which writes the description (0600); the next one uses it', async () => {
    const path = descriptionOf({});
    const args = ['run', '--', '/bin/sh', '-c', 'echo out; echo err >&2; exit 3'];
    const first = await lxzone(args);
    expect(said(first)).toMatch(/^lxzone: front: node runs it: no launch description/);
    expect([first.code, first.stdout, userStderr(first)]).toEqual([3, 'out\n', expect.stringContaining('err\n')]);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const second = await lxzone(args);
    expect(said(second)).toBe(`lxzone: front: using ${path}\n`);
    expect([second.code, second.stdout, userStderr(second)]).toEqual([3, 'out\n', 'err\n']);
  }, 180_000);

  it('output, stderr and exit status are those of node bin/lxzone.js run', async () => {
    const path = descriptionOf({});
    await withDescription(['run', '--', '/bin/true'], path);
    const commands = [
      ['/bin/true'],
      ['/bin/sh', '-c', 'uname -n; exit 3'],
      ['/bin/sh', '-c', 'kill -9 $$'],
      ['/nonexistent'],
      ['/etc/passwd'],
      // reboot(2) RESTART: run again with back-off until the restart limit (125 and its message); HALT is a clean exit.
      ['busybox', 'reboot', '-f'],
      ['busybox', 'poweroff', '-f'],
    ];
    for (const cmd of commands) {
      const front = await lxzone(['run', '--', ...cmd]);
      const node = await viaNode(['run', '--', ...cmd]);
      expect(said(front), cmd.join(' ')).toBe(`lxzone: front: using ${path}\n`);
      expect({ code: front.code, stdout: front.stdout, stderr: userStderr(front) }, cmd.join(' ')).toEqual({ code: node.code, stdout: node.stdout, stderr: node.stderr });
    }
    // The exec failures say so on stderr, as session.ts words them.
    const missing = await lxzone(['run', '--', '/nonexistent']);
    expect([missing.code, userStderr(missing)]).toEqual([127, 'lxzone: cannot run /nonexistent in the zone: no such file or directory (ENOENT)\n']);
  }, 240_000);

  it('SIGTERM to the front end reaches the zone (143)', async () => {
    const path = descriptionOf({});
    await withDescription(['run', '--', '/bin/true'], path);
    const r = await lxzone(['run', '--', '/bin/sh', '-c', 'echo ready; sleep 60'], { onReady: (pid) => process.kill(pid, 'SIGTERM') });
    expect(said(r)).toBe(`lxzone: front: using ${path}\n`);
    expect([r.code, r.signal, r.stdout]).toEqual([143, null, 'ready\n']);
  }, 180_000);

  it('signals the caller ignores are not ignored in the zone, by either path (the shim is spawned with every disposition at its default)', async () => {
    const path = descriptionOf({});
    await withDescription(['run', '--', '/bin/true'], path);
    // As `nohup lxzone run` or a shell's `trap '' INT` leaves them: ignored across execve, unless reset.
    const ignoring = (argv: string[], env: NodeJS.ProcessEnv): Promise<CliResult> =>
      spawnCli(['/bin/sh', '-c', 'trap "" HUP INT USR1 XFSZ; exec "$@"', 'sh', ...argv], { env });
    const args = ['run', '--', '/bin/grep', '-E', '^Sig(Ign|Blk):', '/proc/self/status'];
    const front = await ignoring([WRAPPER, ...args], { LXZONE_DEBUG: '1' });
    const node = await ignoring([process.execPath, join(repoRoot, 'bin', 'lxzone.js'), ...args], { LXZONE_DEBUG: undefined });
    expect(said(front)).toBe(`lxzone: front: using ${path}\n`);
    expect([front.code, front.stdout]).toEqual([node.code, node.stdout]);
    const mask = (name: string): bigint => BigInt(`0x${new RegExp(`^${name}:\\s*([0-9a-f]+)$`, 'm').exec(front.stdout)?.[1] ?? 'ffffffffffffffff'}`);
    const caller = (1n << 0n) | (1n << 1n) | (1n << 9n) | (1n << 24n); // SIGHUP, SIGINT, SIGUSR1, SIGXFSZ: bit N-1
    expect(mask('SigIgn') & caller, front.stdout).toBe(0n);
    expect(mask('SigBlk'), front.stdout).toBe(0n);
  }, 180_000);

  it('a keeper killed by a signal is said as Node says it (128+N)', async () => {
    const path = descriptionOf({});
    await withDescription(['run', '--', '/bin/true'], path);
    // The shim (the keeper) is the launcher's only child.
    const killKeeper = (pid: number): void => {
      const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
      expect(children).toHaveLength(1);
      process.kill(Number(children[0]), 'SIGKILL');
    };
    const args = ['run', '--', '/bin/sh', '-c', 'echo ready; sleep 60'];
    const front = await lxzone(args, { onReady: killKeeper });
    const node = await viaNode(args, { onReady: killKeeper });
    expect(said(front)).toBe(`lxzone: front: using ${path}\n`);
    expect(node.stderr).toBe("lxzone: the zone's keeper was killed by SIGKILL\n");
    expect({ code: front.code, stdout: front.stdout, stderr: userStderr(front) }).toEqual({ code: 137, stdout: node.stdout, stderr: node.stderr });
  }, 180_000);

  it('one-shot id ranges are claimed as src/zone/ids.ts claims them: a live holder or sharer keeps its slot, a stale one is taken over', async () => {
    const path = descriptionOf({});
    await withDescription(['run', '--', '/bin/true'], path);
    const ids = join(runtime, 'ids');
    mkdirSync(ids, { recursive: true, mode: 0o700 });
    const { first, count } = slotLayout().transient;
    const live = JSON.stringify(processIdentity());
    const dead = JSON.stringify({ ...processIdentity(), startTime: 1 }); // this pid, another start: a process gone
    const free = first + 17;
    const shared = first + 18;
    try {
      // Every slot held by this (live) test process but `free` (a dead holder and a dead sharer)
      // and `shared` (a dead holder, a live sharer): the front end must find `free`, whatever its pid.
      for (let slot = first; slot < first + count; slot++) writeFileSync(join(ids, String(slot)), slot === free || slot === shared ? dead : live);
      writeFileSync(join(ids, `${free}.1-1`), dead);
      writeFileSync(join(ids, `${shared}.1-1`), live);
      const r = await lxzone(['run', '--', '/bin/cat', '/proc/self/uid_map']);
      expect(said(r)).toBe(`lxzone: front: using ${path}\n`);
      expect([r.code, r.stdout.trim().split(/\s+/)]).toEqual([0, ['0', String(idBaseOfSlot(free)), '65536']]);
      // Released at the end; the dead sharer went on the way; the live sharer's slot is untouched.
      expect(existsSync(join(ids, String(free)))).toBe(false);
      expect(existsSync(join(ids, `${free}.1-1`))).toBe(false);
      expect(readFileSync(join(ids, String(shared)), 'utf8')).toBe(dead);
      // Every range held: the same refusal as Node's.
      writeFileSync(join(ids, String(free)), live);
      const front = await lxzone(['run', '--', '/bin/true']);
      const node = await viaNode(['run', '--', '/bin/true']);
      expect(node.stderr).toBe(`lxzone: no free host id range for a zone (${count} one-shot zones running?)\n`);
      expect({ code: front.code, stderr: userStderr(front) }).toEqual({ code: 125, stderr: node.stderr });
    } finally {
      rmSync(ids, { recursive: true, force: true });
    }
  }, 180_000);

  it('--network none and --rootfs DIR have descriptions of their own', async () => {
    const plain = descriptionOf({});
    const none = descriptionOf({ network: 'none' });
    const root = descriptionOf({ rootfs });
    expect(new Set([plain, none, root]).size).toBe(3);
    const noneArgs = ['run', '--network', 'none', '--', '/bin/sh', '-c', 'ls /sys/class/net'];
    const rootArgs = ['run', `--rootfs=${rootfs}`, '--no-tty', '--', '/bin/cat', '/etc/os-release'];
    await withDescription(noneArgs, none);
    await withDescription(rootArgs, root);
    const n = await lxzone(noneArgs);
    expect(said(n)).toBe(`lxzone: front: using ${none}\n`);
    expect([n.code, n.stdout]).toEqual([0, (await viaNode(noneArgs)).stdout]);
    const r = await lxzone(rootArgs);
    expect(said(r)).toBe(`lxzone: front: using ${root}\n`);
    expect([r.code, r.stdout]).toEqual([0, 'ID=lxzone-test\n']);
  }, 240_000);

  it('a group-writable description is not used: Node runs the zone and writes it anew', async () => {
    const path = descriptionOf({});
    await withDescription(['run', '--', '/bin/true'], path);
    chmodSync(path, 0o620);
    const r = await lxzone(['run', '--', '/bin/sh', '-c', 'echo hi']);
    expect(said(r)).toMatch(/^lxzone: front: node runs it: launch description not trusted: .* is writable by group or others\n/);
    expect([r.code, r.stdout]).toEqual([0, 'hi\n']);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(said(await lxzone(['run', '--', '/bin/true']))).toBe(`lxzone: front: using ${path}\n`);
  }, 180_000);

  it('a runtime directory under a directory someone else could change is not trusted (OpenSSH\'s safe_path rule); a sticky one of root\'s is', async () => {
    // <dir>/shared/home/runtime: `shared` is two levels up, so the walk must go past the parent.
    const shared = join(dir, 'shared');
    const rt = join(shared, 'home', 'runtime');
    mkdirSync(join(shared, 'home'), { recursive: true, mode: 0o755 });
    const env = { LXZONE_RUNTIME_DIR: rt };
    const path = join(rt, 'launch', `run-${fnv1a64(canonicalLaunchFlags({}))}`);
    const args = ['run', '--', '/bin/sh', '-c', 'echo hi'];
    const notTrusted = (why: string): string => `lxzone: front: node runs it: launch description not trusted: ${shared} ${why}\n`;
    try {
      await withDescription(args, path, env);
      expect(said(await lxzone(args, { env }))).toBe(`lxzone: front: using ${path}\n`);
      // Writable by others and not sticky: anyone could rename home/ away and put a runtime/ of theirs,
      // with a description of their choosing, in its place. The front end goes to Node, which refuses
      // the directory as it always has (trusted-dir.ts): the same status and message either way.
      chmodSync(shared, 0o777);
      let front = await lxzone(args, { env });
      let node = await viaNode(args, { env });
      expect(said(front)).toBe(notTrusted('is writable by group or others (mode 777) and not sticky'));
      expect(node.stderr).toMatch(/not sticky; refusing to use it for lxzone's state/);
      expect({ code: front.code, stdout: front.stdout, stderr: userStderr(front) }).toEqual({ code: node.code, stdout: node.stdout, stderr: node.stderr });
      expect(front.code).toBe(125);
      // Owned by another user, who may chmod it and then do the same.
      chmodSync(shared, 0o755);
      chownSync(shared, 65534, 65534);
      front = await lxzone(args, { env });
      node = await viaNode(args, { env });
      expect(said(front)).toBe(notTrusted('is owned by uid 65534'));
      expect({ code: front.code, stderr: userStderr(front) }).toEqual({ code: node.code, stderr: node.stderr });
      // Sticky and root's, as /tmp: others may add names but not rename ours (home/, root's); trusted.
      chownSync(shared, 0, 0);
      chmodSync(shared, 0o1777);
      front = await lxzone(args, { env });
      expect(said(front)).toBe(`lxzone: front: using ${path}\n`);
      expect([front.code, front.stdout]).toEqual([0, 'hi\n']);
      // Sticky but another user's: its owner may rename anything in it.
      chownSync(shared, 65534, 65534);
      expect(said(await lxzone(args, { env }))).toBe(notTrusted('is owned by uid 65534'));
    } finally {
      rmSync(shared, { recursive: true, force: true });
    }
  }, 240_000);

  it('a changed LXZONE_* variable makes the description stale; Node writes one for the new environment', async () => {
    const path = descriptionOf({});
    await withDescription(['run', '--', '/bin/true'], path);
    const env = { LXZONE_FRONT_TEST: 'x' };
    const r = await lxzone(['run', '--', '/bin/true'], { env });
    expect(said(r)).toMatch(/^lxzone: front: node runs it: .* is stale: environment differs: LXZONE_FRONT_TEST\n/);
    expect(r.code).toBe(0);
    expect(said(await lxzone(['run', '--', '/bin/true'], { env }))).toBe(`lxzone: front: using ${path}\n`);
    // And back: the variable gone is a change too.
    expect(said(await lxzone(['run', '--', '/bin/true']))).toMatch(/is stale: environment differs: LXZONE_FRONT_TEST/);
  }, 180_000);

  it('a description lists the CLI bundle that planned it as an input: a rebuilt bundle makes it stale', async () => {
    const path = descriptionOf({});
    await withDescription(['run', '--', '/bin/true'], path);
    // bin/lxzone.js runs `run` from this file when the CLI is bundled, as npm run build leaves it.
    const bundle = join(repoRoot, 'dist', 'cli-bundle', 'run.cjs');
    expect(existsSync(bundle), `${bundle} (npm run build bundles the CLI)`).toBe(true);
    const inputFiles = inputFilesOf(path);
    expect(inputFiles).toContain(bundle);
    // Its modules' import.meta.url name their files in dist/cli/, whose code did not run.
    expect(inputFiles).not.toContain(join(repoRoot, 'dist', 'cli', 'launch-description.js'));
    // A rebuild replaces the file (a new inode, times and size). Short of changing the code that
    // concurrent test files run: its times set again to what they were, which changes its ctime.
    const st = statSync(bundle);
    utimesSync(bundle, st.atime, st.mtime);
    const r = await lxzone(['run', '--', '/bin/true']);
    expect(said(r)).toBe(`lxzone: front: node runs it: ${path} is stale: input file changed: ${bundle}\n`);
    expect(r.code).toBe(0);
    expect(said(await lxzone(['run', '--', '/bin/true']))).toBe(`lxzone: front: using ${path}\n`);
  }, 180_000);

  it('a --rootfs that became a symlink after its description was written gets Node\'s error', async () => {
    const swapped = makeBusyboxRoot('lxz-front-swapped-', dir);
    const path = descriptionOf({ rootfs: swapped });
    const args = ['run', '--rootfs', swapped, '--', '/bin/true'];
    await withDescription(args, path);
    rmSync(swapped, { recursive: true });
    symlinkSync(rootfs, swapped);
    const front = await lxzone(args);
    const node = await viaNode(args);
    expect(said(front)).toBe(`lxzone: front: node runs it: --rootfs ${swapped} is not a directory named by its real path\n`);
    expect(node.stderr).toMatch(/goes through a symlink/);
    expect({ code: front.code, stderr: userStderr(front) }).toEqual({ code: 125, stderr: node.stderr });
    expect(node.code).toBe(125);
  }, 180_000);

  it('a command line that is not the plain form goes to Node', async () => {
    const r = await lxzone(['run', '--hostname', 'elsewhere', '--', '/bin/uname', '-n']);
    expect(said(r)).toBe('lxzone: front: node runs it: not the plain form of run\n');
    expect([r.code, r.stdout]).toEqual([0, 'elsewhere\n']);
    // A repeated option, a missing value, no command: Node parses them and says what is wrong.
    for (const args of [['run', '-t', '--no-tty', '--', '/bin/true'], ['run', '--rootfs'], ['run', '--network', 'none']]) {
      const front = await lxzone(args);
      const node = await viaNode(args);
      expect(said(front), args.join(' ')).toBe('lxzone: front: node runs it: not the plain form of run\n');
      expect({ code: front.code, stderr: userStderr(front) }, args.join(' ')).toEqual({ code: node.code, stderr: node.stderr });
    }
  }, 180_000);
});
