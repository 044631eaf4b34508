// A zone's own loop devices (issue 21 part 1): /dev/loop-control and
// /dev/loop0..7 in every zone, their ioctls emulated by the supervisor, a
// backing file bound over /dev/loopN inside the zone. A real zone runs
// fixtures/blockdev/loopdev (what the suite's block-device tests do first) on
// an ext4 image made in the zone with mkfs.ext4 -d; then the attacks: a
// user without the zone's root privileges, a directory, a file the caller may
// only read, an fd the host passed in, a racing dup2, ioctls on other fds.
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runZone, type RunOptions } from '../src/zone/run.js';
import { expectNothingLeft, hostSnapshot, repoRoot, type HostSnapshot } from './support/zones.js';

let before: HostSnapshot;
beforeEach(() => {
  before = hostSnapshot();
});
afterEach(async () => {
  await expectNothingLeft(before);
});

const FX = '/tmp/lxzone-blockdev';
const binds = [{ host: join(repoRoot, 'fixtures', 'bin', 'blockdev'), zone: FX, readOnly: true }];
const LOOPDEV = `${FX}/loopdev`;
// An ext4 image made in the zone's own /tmp from a directory, as the tests do.
const MKFS = 'mkdir -p /tmp/src && echo hello-from-image > /tmp/src/hello.txt && mkfs.ext4 -q -F -d /tmp/src /tmp/disk.img 4M >/dev/null 2>&1';

beforeAll(() => {
  execFileSync('make', ['-s', '-C', join(repoRoot, 'fixtures'), 'bin/blockdev/loopdev'], { stdio: 'pipe' });
});

interface Step {
  step: string;
  ret?: number;
  errno?: number;
  [k: string]: unknown;
}

async function zoneSh(script: string, opts: Partial<RunOptions> = {}): Promise<{ code: number; steps: Step[]; text: string }> {
  const r = await runZone({ argv: ['/bin/sh', '-c', script], stdio: 'pipe', binds, ...opts });
  const text = `${r.stdout?.toString() ?? ''}${r.stderr?.toString() ?? ''}`;
  const steps = (r.stdout?.toString() ?? '')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Step);
  return { code: r.exitCode, steps, text };
}

const find = (steps: Step[], name: string) => steps.filter((s) => s.step === name);
const one = (steps: Step[], name: string): Step => {
  const found = find(steps, name);
  if (found.length !== 1) throw new Error(`step ${name}: ${JSON.stringify(steps)}`);
  return found[0]!;
};

describe('a zone has loop devices of its own', () => {
  it('LOOP_CTL_GET_FREE, LOOP_SET_FD, LOOP_SET/GET_STATUS64, the image through /dev/loop0, LOOP_CLR_FD', async () => {
    const r = await zoneSh(`${MKFS} && ${LOOPDEV} cycle /tmp/disk.img`);
    expect(r.code, r.text).toBe(0);
    expect(one(r.steps, 'LOOP_CTL_GET_FREE').ret).toBe(0);
    expect(one(r.steps, 'LOOP_SET_FD').ret).toBe(0);
    expect(one(r.steps, 'status')).toMatchObject({ number: 0, name: 'lxzone-image', readOnly: 0 });
    // The ext4 magic 0xEF53 at byte 1080 of /dev/loop0: the image itself.
    expect(one(r.steps, 'device')).toMatchObject({ path: '/dev/loop0', magic: 0xef53 });
    expect(one(r.steps, 'LOOP_CLR_FD').ret).toBe(0);
    // Detached: no status (ENXIO), and the node reads as empty again.
    expect(one(r.steps, 'LOOP_GET_STATUS64-after-clear')).toMatchObject({ ret: -1, errno: 6 });
    expect(one(r.steps, 'after-clear').magic).toBe(0);
  });

  it('hands out the next free device while one is attached, and EBUSY for an attached one', async () => {
    const r = await zoneSh(
      `${MKFS} && cp /tmp/disk.img /tmp/disk2.img && ${LOOPDEV} attach /tmp/disk.img && ${LOOPDEV} attach /tmp/disk2.img configure; ` +
        `${LOOPDEV} setfd 0 /tmp/disk2.img; ${LOOPDEV} detach 1; ${LOOPDEV} detach 0; ${LOOPDEV} detach 0`,
    );
    const free = find(r.steps, 'LOOP_CTL_GET_FREE').map((s) => s.ret);
    expect(free, r.text).toEqual([0, 1]);
    expect(one(r.steps, 'LOOP_CONFIGURE').ret).toBe(0);
    expect(find(r.steps, 'status').map((s) => s.name)).toEqual(['lxzone-image', 'configured']);
    expect(find(r.steps, 'LOOP_SET_FD').map((s) => [s.ret, s.errno])).toEqual([[0, 0], [-1, 16]]); // EBUSY
    // Two detaches succeed, the third finds nothing attached (ENXIO).
    expect(find(r.steps, 'LOOP_CLR_FD').map((s) => s.errno)).toEqual([0, 0, 6]);
  });

  it('a read-only attach (LOOP_SET_FD of an O_RDONLY fd) cannot be written through /dev/loopN', async () => {
    const r = await zoneSh(`${MKFS} && ${LOOPDEV} attach /tmp/disk.img ro && (echo x > /dev/loop0; echo "write=$?") 2>&1; ${LOOPDEV} detach 0`);
    expect(one(r.steps, 'status').readOnly, r.text).toBe(1);
    expect(r.text).toMatch(/Read-only file system/);
    expect(r.text).toMatch(/write=[1-9]/);
    expect(one(r.steps, 'LOOP_CLR_FD').ret).toBe(0);
  });

  it('ioctls on any other fd go on to the host kernel unchanged (ENOTTY on /dev/null)', async () => {
    const py = `import fcntl, os
fd = os.open('/dev/null', os.O_RDWR)
for cmd in (0x4C82, 0x4C00):
    try:
        fcntl.ioctl(fd, cmd, 0); print('ok')
    except OSError as e:
        print(e.errno)`;
    const r = await runZone({ argv: ['/usr/bin/python3', '-c', py], stdio: 'pipe' });
    expect(r.stdout?.toString().trim().split('\n')).toEqual(['25', '25']);
  });
});

describe('attacks on the loop devices', () => {
  it('a zone user without the zone root privileges is refused (EPERM), as the 0660 nodes refuse natively', async () => {
    const r = await zoneSh(`${LOOPDEV} status 0`, { uid: 1000, gid: 1000 });
    expect(one(r.steps, 'LOOP_GET_STATUS64'), r.text).toMatchObject({ ret: -1, errno: 1 });
  });

  it('a directory is not a backing file (EINVAL); /dev stays read-only', async () => {
    const r = await zoneSh(`${LOOPDEV} setfd 0 /; sh -c ': > /dev/loop9' 2>/dev/null; echo "create=$?"`);
    expect(one(r.steps, 'LOOP_SET_FD'), r.text).toMatchObject({ ret: -1, errno: 22 });
    expect(r.text).toMatch(/create=[1-9]/);
  });

  it("a host file the zone may only read stays read-only through /dev/loop0, and unchanged", async () => {
    const before = readFileSync('/etc/hostname', 'utf8');
    const r = await zoneSh(`${LOOPDEV} setfd 0 /etc/hostname; (echo owned > /dev/loop0) 2>&1; head -c 64 /dev/loop0; ${LOOPDEV} detach 0`);
    expect(one(r.steps, 'LOOP_SET_FD').ret, r.text).toBe(0);
    expect(r.text).toMatch(/Read-only file system|Permission denied/);
    expect(r.text).toContain(before.trim());
    expect(readFileSync('/etc/hostname', 'utf8')).toBe(before);
  });

  it('a dup2 racing LOOP_SET_FD binds one of the files the caller held, never anything else', async () => {
    // One thread flips fd 9 between a file and a directory; the other attaches
    // fd 9 and reads /dev/loop0 back. Each attach either fails (EINVAL: the
    // directory) or shows the file, and the device always detaches.
    const py = `import fcntl, os, threading
open('/tmp/a.img', 'w').write('A' * 4096)
f = os.open('/tmp/a.img', os.O_RDWR); d = os.open('/', os.O_RDONLY)
os.dup2(f, 9)
stop = False
def flip():
    while not stop:
        os.dup2(d, 9); os.dup2(f, 9)
t = threading.Thread(target=flip); t.start()
seen = set()
for i in range(200):
    dev = os.open('/dev/loop0', os.O_RDWR)
    try:
        fcntl.ioctl(dev, 0x4C00, 9)
        os.close(dev)
        data = open('/dev/loop0', 'rb').read(8)
        seen.add('A' if data == b'A' * 8 else repr(data))
        dev = os.open('/dev/loop0', os.O_RDWR); fcntl.ioctl(dev, 0x4C01, 0)
    except OSError as e:
        seen.add(str(e.errno))
    os.close(dev)
stop = True; t.join()
print(' '.join(sorted(seen)))
print(open('/dev/loop0', 'rb').read(8))`;
    const r = await runZone({ argv: ['/usr/bin/python3', '-c', py], stdio: 'pipe' });
    const lines = (r.stdout?.toString() ?? '').trim().split('\n');
    expect(lines.length, r.stderr?.toString()).toBe(2);
    const seen = lines[0]!.split(' ');
    expect(seen).toContain('A');
    for (const item of seen) expect(['A', '22']).toContain(item);
    expect(lines[1]).toBe("b''"); // detached at the end: /dev/null again
  });

  it('an fd the host passed in (a file outside every zone mount) cannot be bound (EINVAL)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lxzone-loop-host-'));
    try {
      writeFileSync(join(dir, 'secret.img'), 'host data\n');
      const stdin = openSync(join(dir, 'secret.img'), 'r+');
      const out = openSync(join(dir, 'out'), 'w');
      try {
        await runZone({ argv: [LOOPDEV, 'setfd', '0', 'fd:0'], stdio: 'fds', stdioFds: [stdin, out, out], binds });
      } finally {
        closeSync(stdin);
        closeSync(out);
      }
      const steps = readFileSync(join(dir, 'out'), 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Step);
      expect(one(steps, 'LOOP_SET_FD')).toMatchObject({ ret: -1, errno: 22 });
      expect(readFileSync(join(dir, 'secret.img'), 'utf8')).toBe('host data\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
