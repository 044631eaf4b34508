// lxzone-utsfs, the keeper's FUSE server of a zone's /proc/sys/kernel/hostname
// and domainname (native/shim/uts_sysctl_server.cc), answers requests the
// zone's writes cause while it holds CAP_SYS_ADMIN and CAP_SYS_PTRACE over
// the zone's user namespace, so it runs under a seccomp filter of its own:
// the uts-server profile (syscall-tables/rules/uts-server.json), carried in
// the shim's config (uts-server-filter) to every zone start. Proven on live
// servers: a zone started through Node (bin/lxzone's first run, which writes
// the launch description) and one started by the native front end from that
// description (lxzone-front) each have a server with no_new_privs and exactly
// one filter, which read back from the kernel is byte for byte the compiled
// uts-server profile; after that (the read-back stops the server for a
// moment) the zone still writes its names through the files, its own and a
// nested UTS namespace's. planZone puts the filter in every new zone's
// config (a daemon zone's, whose keeper serves it while the daemon is away,
// too). And the same bytes, loaded into the kernel, refuse what a taken-over
// server must not reach and notify nothing.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { utsServerFilter } from '../src/policy/uts-server-filter.js';
import { planZone } from '../src/zone/shim-plan.js';
import { buildSeccompFixtures, expectKernelAnswers, readSeccompState, waitFor, x86OnlyReason, type KernelAnswer, type TriedCall } from './support/seccomp-filters.js';
import { checkNothingLeftAroundEach, ownTempDir, repoRoot } from './support/zones.js';

checkNothingLeftAroundEach();

const dir = ownTempDir(mkdtempSync(join(tmpdir(), 'lxzone-utsf-')));
const skipX86 = x86OnlyReason('the filter\'s kernel check');

beforeAll(() => buildSeccompFixtures());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Host pids of the processes named `comm` below `root` (its descendants, at any depth). */
function descendantsNamed(root: number, comm: string): number[] {
  const parent = new Map<number, number>();
  const names = new Map<number, string>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      names.set(Number(e), stat.slice(stat.indexOf('(') + 1, close));
      parent.set(Number(e), Number(stat.slice(close + 2).split(' ')[1]));
    } catch {
      // the process ended while we looked: not one of ours any more
    }
  }
  const below = (pid: number): boolean => {
    for (let p = parent.get(pid), n = 0; p !== undefined && p > 1 && n < 64; p = parent.get(p), n++) if (p === root) return true;
    return false;
  };
  return [...names].filter(([pid, name]) => name === comm && below(pid)).map(([pid]) => pid);
}

// Says it is up, waits for the test's line on stdin, then writes its names through the files.
const SCRIPT = 'cat /proc/sys/kernel/hostname; echo ready; read go; ' +
  'echo viaproc > /proc/sys/kernel/hostname; echo written $?; hostname; cat /proc/sys/kernel/hostname; ' +
  'printf zonedom > /proc/sys/kernel/domainname; domainname; ' +
  'unshare -u sh -c "echo inner > /proc/sys/kernel/hostname; cat /proc/sys/kernel/hostname"; cat /proc/sys/kernel/hostname';

interface Inspected { front: boolean; filters: string[]; status: Record<string, string | undefined>; out: string; err: string; code: number | null }

/**
 * `bin/lxzone run -i -- sh -c SCRIPT` with a runtime directory of its own: once
 * the zone is up, the lxzone-utsfs below it is looked at (its status, its
 * filters as the kernel holds them), then the zone goes on and ends.
 */
async function runAndInspect(runtime: string): Promise<Inspected> {
  const env: NodeJS.ProcessEnv = { ...process.env, LXZONE_RUNTIME_DIR: runtime, LXZONE_DEBUG: '1' };
  delete env.LXZONE_LAUNCH_FLAGS;
  // cwd /: the zone's own /tmp hides a checkout under the host's /tmp.
  const child = spawn(join(repoRoot, 'bin', 'lxzone'), ['run', '-i', '--', '/bin/sh', '-c', SCRIPT], { cwd: '/', stdio: ['pipe', 'pipe', 'pipe'], env });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  let exited = false;
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const done = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      exited = true;
      clearTimeout(timer);
      resolve(code);
    });
  });
  const result: Inspected = { front: false, filters: [], status: {}, out: '', err: '', code: null };
  try {
    await waitFor('the zone to be up', () => (/^ready$/m.test(out) || exited ? true : undefined), 90_000);
    if (!exited) {
      const servers = descendantsNamed(child.pid!, 'lxzone-utsfs');
      expect(servers.length, `lxzone-utsfs below ${child.pid}: ${err}`).toBe(1);
      Object.assign(result, readSeccompState(servers[0]!));
    }
  } finally {
    // Whatever was found, the zone goes on and ends before the test does (nothing left behind).
    child.stdin.end('go\n');
    result.code = await done;
  }
  return { ...result, front: /^lxzone: front: using /m.test(err), out, err };
}

describe('lxzone-utsfs serving a zone', () => {
  it('runs with no_new_privs under exactly one filter, the compiled uts-server profile, whether Node or the native front end started the zone; the zone still writes its names', async () => {
    const runtime = join(dir, 'runtime');
    const want = utsServerFilter().toString('hex');
    const seen: boolean[] = [];
    // The first run goes through Node, which writes the launch description; the front end uses it from then on.
    for (let i = 0; i < 4 && !seen.includes(true); i++) {
      const r = await runAndInspect(runtime);
      const route = r.front ? 'native front end' : 'Node';
      expect({ route, status: r.status }).toEqual({ route, status: { NoNewPrivs: '1', Seccomp: '2', Seccomp_filters: '1' } });
      expect({ route, filters: r.filters }).toEqual({ route, filters: [want] });
      expect({ route, out: r.out.trim().split('\n') }).toEqual({
        route, out: ['lxzone', 'ready', 'written 0', 'viaproc', 'viaproc', 'zonedom', 'inner', 'viaproc'],
      });
      expect(r.code, r.err).toBe(0);
      seen.push(r.front);
    }
    expect(seen[0], 'the first run (no description yet) goes through Node').toBe(false);
    expect(seen, 'a later run is started by the native front end').toContain(true);
  }, 400_000);
});

describe('the shim config of a zone (planZone, the one route)', () => {
  /** The uts-server-filter records of an encoded shim config. */
  const records = (config: Buffer): string[] =>
    config.toString('utf8').split('\0').filter((r) => r.startsWith('uts-server-filter=')).map((r) => r.slice('uts-server-filter='.length));

  it('carries the filter for every new zone, a daemon\'s whose keeper serves it while the daemon is away too; an exec (no server of its own) gets none', () => {
    const want = utsServerFilter().toString('hex');
    const plans = [
      ['a one-shot zone', planZone({ argv: ['/bin/true'] })],
      // The daemon's boot: a re-attach socket, so the keeper serves the zone meanwhile (serve-* records).
      ['a daemon zone', planZone({ argv: ['/bin/true'], reattachSocket: join(dir, 'reattach.sock'), relayStdio: true })],
    ] as const;
    try {
      for (const [what, plan] of plans) expect({ what, filters: records(plan.config) }).toEqual({ what, filters: [want] });
      expect(plans[1][1].config.includes('serve-dispatch=')).toBe(true);
      const exec = planZone({ argv: ['/bin/true'], joinPid: process.pid });
      exec.idClaim?.release();
      expect(records(exec.config)).toEqual([]);
    } finally {
      for (const [, plan] of plans) plan.idClaim?.release();
    }
  });
});

describe.skipIf(skipX86)('the uts-server filter in the kernel (fixtures/probes/seccomp_load)', () => {
  const CLONE_NEWUTS = 0x04000000n;
  const CLONE_NEWUSER = 0x10000000n;
  const CLONE_NEWNET = 0x40000000n;
  const BAD_FD = 0xffffffffn;
  const NO_PID = 0x7fffffffn;
  const ANON = 0x22n; // MAP_PRIVATE|MAP_ANONYMOUS
  const NO_FD = 0xffffffffffffffffn;
  // [call, what the kernel must answer: an errno (ret -1), or 'ok' (ret >= 0)]
  const expected: [TriedCall, KernelAnswer][] = [
    // The serving loop's calls: executed (the kernel's own answers).
    [{ name: 'read', args: [BAD_FD, 0n, 0n] }, 9],
    [{ name: 'writev', args: [BAD_FD, 0n, 0n] }, 9],
    [{ name: 'close', args: [BAD_FD] }, 9],
    [{ name: 'poll', args: [0n, 0n, 0n] }, 'ok'],
    [{ name: 'pidfd_open', args: [NO_PID, 0n] }, 3],
    [{ name: 'pidfd_open', args: [NO_PID, 0x80n /* PIDFD_THREAD */] }, 3],
    [{ name: 'setns', args: [BAD_FD, CLONE_NEWUTS] }, 9],
    [{ name: 'uname', args: [0n] }, 14],
    [{ name: 'sethostname', args: [0n, 100n] }, 22], // the kernel's length check: nothing is set
    [{ name: 'setdomainname', args: [0n, 100n] }, 22],
    [{ name: 'clock_gettime', args: [0n, 0n] }, 14],
    [{ name: 'mmap', args: [0n, 4096n, 3n /* READ|WRITE */, ANON, NO_FD, 0n] }, 'ok'],
    [{ name: 'mprotect', args: [0n, 0n, 1n /* READ */] }, 'ok'],
    // Refused by the rules of those calls.
    [{ name: 'pidfd_open', args: [NO_PID, 0x800n /* PIDFD_NONBLOCK */] }, 1],
    [{ name: 'setns', args: [BAD_FD, 0n] }, 1], // any kind, or a pidfd's every namespace
    [{ name: 'setns', args: [BAD_FD, CLONE_NEWNET] }, 1],
    [{ name: 'setns', args: [BAD_FD, CLONE_NEWUTS | CLONE_NEWUSER] }, 1],
    [{ name: 'mmap', args: [0n, 4096n, 5n /* READ|EXEC */, ANON, NO_FD, 0n] }, 1],
    [{ name: 'mprotect', args: [0n, 0n, 4n /* EXEC */] }, 1],
    // Everything else: ENOSYS from the filter.
    [{ name: 'getpid' }, 38],
    [{ name: 'openat', args: [0xffffff9cn, 0n, 0n] }, 38],
    [{ name: 'open', args: [0n, 0n] }, 38],
    [{ name: 'execve', args: [0n, 0n, 0n] }, 38],
    [{ name: 'kill', args: [NO_PID, 0n] }, 38],
    [{ name: 'ptrace', args: [0n, 0n, 0n, 0n] }, 38],
    [{ name: 'process_vm_readv', args: [1n, 0n, 0n, 0n, 0n, 0n] }, 38],
    [{ name: 'pidfd_getfd', args: [BAD_FD, 0n, 0n] }, 38],
    [{ name: 'mount', args: [0n, 0n, 0n, 0n, 0n] }, 38],
    [{ name: 'unshare', args: [CLONE_NEWUSER] }, 38],
    [{ name: 'clone', args: [0x11n /* SIGCHLD */, 0n, 0n, 0n, 0n] }, 38],
    [{ name: 'socket', args: [1n, 1n, 0n] }, 38],
    [{ name: 'io_uring_setup', args: [1n, 0n] }, 38],
    [{ name: 'bpf', args: [0n, 0n, 0n] }, 38],
    [{ name: 'prctl', args: [0n, 0n, 0n, 0n, 0n] }, 38],
    [{ name: 'seccomp', args: [0n, 0n, 0n] }, 38],
    [{ name: 'unknown 1000', nr: 1000 }, 38],
  ];

  it('refuses what a taken-over server must not reach, keeps the serving loop\'s calls, notifies nothing, and agrees with the interpreter', () => {
    expectKernelAnswers(utsServerFilter(), expected, dir);
  });
});
