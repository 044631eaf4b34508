// The FUSE drivers the supervisor starts for a zone's mount of a block image
// (fuse2fs & co., native/supervisor/fuse_mount.cc) parse an image the zone
// wrote, so they run under the fuse-driver filter (syscall-tables/rules/
// fuse-driver.json), never unfiltered. Proven twice: a real driver serving a
// real zone's ext4 mount has no_new_privs and exactly one seccomp filter, and
// that filter, read back from the kernel, is byte for byte the compiled
// fuse-driver profile; those same bytes, loaded into the kernel, refuse what
// a taken-over driver must not reach (io_uring, bpf, userfaultfd, namespaces,
// the mount family beyond libfuse's own mount, ...), and nothing is ever
// notified (nobody serves a driver's notifications).
// A zone the native front end starts (bin/lxzone run) gets the filter from
// its launch description: it mounts ext4 (with no filter: EPERM).
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driverFilter } from '../src/policy/driver-filter.js';
import { runZone } from '../src/zone/run.js';
import { buildSeccompFixtures, expectKernelAnswers, readSeccompState, waitFor, x86OnlyReason, type KernelAnswer, type TriedCall } from './support/seccomp-filters.js';
import { checkNothingLeftAroundEach, ownTempDir, repoRoot } from './support/zones.js';

checkNothingLeftAroundEach();

const fixtures = join(repoRoot, 'fixtures');
const FX = '/tmp/lxzone-blockdev';
const dir = ownTempDir(mkdtempSync(join(tmpdir(), 'lxzone-fdf-')));
const skipX86 = x86OnlyReason('the driver filter\'s kernel check');

beforeAll(() => buildSeccompFixtures(['bin/blockdev/loopdev']));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Host pids of the fuse2fs processes whose user namespace is `userns` ("user:[N]"). */
function driversIn(userns: string): number[] {
  const pids: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      if (readFileSync(`/proc/${e}/comm`, 'utf8').trim() !== 'fuse2fs') continue;
      if (readlinkSync(`/proc/${e}/ns/user`) === userns) pids.push(Number(e));
    } catch {
      // the process ended while we looked: not a driver of ours any more
    }
  }
  return pids;
}

describe('a FUSE driver serving a zone\'s ext4 mount', () => {
  it('runs with no_new_privs under exactly one filter: the compiled fuse-driver profile; it ends with the zone', async () => {
    // The zone mounts its image, says which user namespace it is, and holds
    // the mount until the test has looked (a file in a bound directory).
    const ctl = mkdtempSync(join(dir, 'ctl-'));
    chmodSync(ctl, 0o777);
    const script = `mkdir -p /tmp/src /tmp/m && echo hi > /tmp/src/f && mkfs.ext4 -q -F -d /tmp/src /tmp/disk.img 8M >/dev/null 2>&1 && ${FX}/loopdev attach /tmp/disk.img >/dev/null
python3 - <<'PY'
import ctypes, os, time
libc = ctypes.CDLL(None, use_errno=True)
r = libc.mount(b'/dev/loop0', b'/tmp/m', b'ext4', 0, None)
print('mount', 0 if r == 0 else ctypes.get_errno(), flush=True)
print('read', open('/tmp/m/f').read().strip(), flush=True)
open('/tmp/ctl/userns.tmp', 'w').write(os.readlink('/proc/self/ns/user'))
os.rename('/tmp/ctl/userns.tmp', '/tmp/ctl/userns')
deadline = time.time() + 120
while not os.path.exists('/tmp/ctl/done') and time.time() < deadline:
    time.sleep(0.1)
print('umount', libc.umount2(b'/tmp/m', 0), flush=True)
PY`;
    const binds = [
      { host: join(fixtures, 'bin', 'blockdev'), zone: FX, readOnly: true },
      { host: ctl, zone: '/tmp/ctl', readOnly: false },
    ];
    const zone = runZone({ argv: ['/bin/sh', '-c', script], stdio: 'pipe', binds });
    let ended = false;
    void zone.finally(() => (ended = true)).catch(() => undefined); // awaited below; a failure is reported there
    let userns = '';
    try {
      userns = await waitFor('the zone\'s mount', () => {
        if (existsSync(join(ctl, 'userns'))) return readFileSync(join(ctl, 'userns'), 'utf8');
        if (ended) return ''; // the zone ended first: what it printed says why
        return undefined;
      });
      if (!userns) {
        const early = await zone; // rejects with the zone's failure
        throw new Error(`the zone ended before it mounted: ${early.stdout?.toString() ?? ''}${early.stderr?.toString() ?? ''}`);
      }
      expect(userns).toMatch(/^user:\[\d+\]$/);
      const pids = driversIn(userns);
      expect(pids.length, `fuse2fs processes in ${userns}`).toBe(1);
      // Its status, and the program itself as the kernel holds it.
      expect(readSeccompState(pids[0]!)).toEqual({ status: { NoNewPrivs: '1', Seccomp: '2', Seccomp_filters: '1' }, filters: [driverFilter().toString('hex')] });
    } finally {
      // Whatever was found, the zone unmounts and ends before the test does (nothing left behind).
      writeFileSync(join(ctl, 'done'), '');
      await zone.catch(() => undefined);
    }
    const r = await zone;
    const text = `${r.stdout?.toString() ?? ''}${r.stderr?.toString() ?? ''}`;
    expect(text).toContain('mount 0');
    expect(text).toContain('read hi');
    expect(text).toContain('umount 0');
    expect(r.exitCode, text).toBe(0);
    // Unmounted and the zone gone: so is its driver.
    await waitFor('the driver to end', () => (driversIn(userns).length === 0 ? true : undefined), 30_000);
  }, 180_000);
});

/** `bin/lxzone ARGS` (the native front end for a plain run) with a runtime directory of its own; stdout, stderr, status. */
function lxzone(args: string[], runtime: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, LXZONE_RUNTIME_DIR: runtime, LXZONE_DEBUG: '1' };
    delete env.LXZONE_LAUNCH_FLAGS;
    // cwd /: the zone's own /tmp hides a checkout under the host's /tmp.
    const child = spawn(join(repoRoot, 'bin', 'lxzone'), args, { cwd: '/', stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

describe('a zone started by the native front end (bin/lxzone run, lxzone-front)', () => {
  it('mounts ext4 through a driver: its launch description carries the driver filter to the supervisor it links', async () => {
    const runtime = join(dir, 'runtime');
    const script = `cd /tmp && mkdir -p src m && echo hi > src/f && mkfs.ext4 -q -F -d src disk.img 8M >/dev/null 2>&1 && losetup -f disk.img && python3 -c "
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
r = libc.mount(b'/dev/loop0', b'/tmp/m', b'ext4', 0, None)
print('mount', 0 if r == 0 else ctypes.get_errno())
print('read', open('/tmp/m/f').read().strip() if r == 0 else '-')
print('umount', libc.umount2(b'/tmp/m', 0))"`;
    const args = ['run', '/bin/sh', '-c', script];
    // The first run goes through Node, which writes the description; the front end uses it from then on.
    let r = await lxzone(args, runtime);
    for (let i = 0; i < 3 && !/^lxzone: front: using /m.test(r.err); i++) r = await lxzone(args, runtime);
    expect(r.err).toMatch(/^lxzone: front: using /m);
    expect(r.out).toContain('mount 0\n');
    expect(r.out).toContain('read hi\n');
    expect(r.out).toContain('umount 0\n');
    expect(r.code, r.err).toBe(0);
  }, 240_000);
});

describe.skipIf(skipX86)('the fuse-driver filter in the kernel (fixtures/probes/seccomp_load)', () => {
  const CLONE_NEWUSER = 0x10000000n;
  const MS_BIND = 0x1000n;
  const MS_NOSUID_NODEV = 0x6n;
  // [call, what the kernel must answer: an errno (ret -1), or 'ok' (ret >= 0)]
  const expected: [TriedCall, KernelAnswer][] = [
    [{ name: 'getpid' }, 'ok'],
    [{ name: 'read', args: [0xffffffffn, 0n, 0n] }, 9], // allowed: the kernel's EBADF
    [{ name: 'io_uring_setup', args: [1n, 0n] }, 38],
    [{ name: 'io_uring_enter', args: [0n, 0n, 0n, 0n, 0n, 0n] }, 38],
    [{ name: 'io_uring_register', args: [0n, 0n, 0n, 0n] }, 38],
    [{ name: 'userfaultfd', args: [0n] }, 1],
    [{ name: 'bpf', args: [0n, 0n, 0n] }, 1],
    [{ name: 'perf_event_open', args: [0n, 0n, 0n, 0n, 0n] }, 1],
    [{ name: 'keyctl', args: [0n, 0n] }, 1],
    [{ name: 'add_key', args: [0n, 0n, 0n, 0n, 0n] }, 1],
    [{ name: 'request_key', args: [0n, 0n, 0n, 0n] }, 1],
    [{ name: 'ptrace', args: [0n, 0n, 0n, 0n] }, 1],
    [{ name: 'process_vm_readv', args: [1n, 0n, 0n, 0n, 0n, 0n] }, 1],
    [{ name: 'process_vm_writev', args: [1n, 0n, 0n, 0n, 0n, 0n] }, 1],
    [{ name: 'kexec_load', args: [0n, 0n, 0n, 0n] }, 1],
    [{ name: 'kexec_file_load', args: [0n, 0n, 0n, 0n, 0n] }, 1],
    [{ name: 'init_module', args: [0n, 0n, 0n] }, 1],
    [{ name: 'finit_module', args: [0xffffffffn, 0n, 0n] }, 1],
    [{ name: 'unshare', args: [CLONE_NEWUSER] }, 1],
    [{ name: 'setns', args: [0xffffffffn, 0n] }, 1], // unfiltered: EBADF
    // CLONE_NEWUSER|CLONE_THREAD: the kernel itself would say EINVAL; the filter answers first.
    [{ name: 'clone', args: [CLONE_NEWUSER | 0x10000n, 0n, 0n, 0n, 0n] }, 1],
    [{ name: 'clone3', args: [0n, 0n] }, 38],
    [{ name: 'mount', args: [0n, 0n, 0n, MS_BIND, 0n] }, 1], // unfiltered: EFAULT (no target)
    [{ name: 'mount', args: [0n, 0n, 0n, 0xdead00000000n | MS_NOSUID_NODEV, 0n] }, 1], // garbage in the high half
    [{ name: 'mount', args: [0n, 0n, 0n, MS_NOSUID_NODEV, 0n] }, 14], // libfuse's flags: the kernel's EFAULT
    [{ name: 'fsopen', args: [0n, 0n] }, 1],
    [{ name: 'open_tree', args: [0xffffff9cn, 0n, 0n] }, 1],
    [{ name: 'move_mount', args: [0n, 0n, 0n, 0n, 0n] }, 1],
    [{ name: 'pivot_root', args: [0n, 0n] }, 1],
    [{ name: 'socket', args: [2n /* AF_INET */, 1n, 0n] }, 97],
    [{ name: 'socket', args: [1n /* AF_UNIX */, 1n | 0x80000n, 0n] }, 'ok'],
    [{ name: 'uname', args: [0n] }, 14], // the kernel's own (EFAULT), never notified
    [{ name: 'unknown 1000', nr: 1000 }, 38],
  ];

  it('refuses the kernel surface a taken-over driver must not reach, notifies nothing, and agrees with the interpreter', () => {
    expectKernelAnswers(driverFilter(), expected, dir);
  });
});
