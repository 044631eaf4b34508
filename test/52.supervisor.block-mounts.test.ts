// mount(2) of a block filesystem in a zone (issue 21 part 1): ext4 on the
// zone's own /dev/loop0 is served by fuse2fs with the zone's privileges, never
// by the host kernel; read, write, umount. vfat likewise through fusefat. Then a hostile (corrupted) image
// fails cleanly, and a source that is not one of the zone's loop devices is
// left to the kernel, which refuses ext4 in a user namespace.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runZone } from '../src/zone/run.js';
import { repoRoot, checkNothingLeftAroundEach } from './support/zones.js';

checkNothingLeftAroundEach();

const FX = '/tmp/lxzone-blockdev';
const binds = [{ host: join(repoRoot, 'fixtures', 'bin', 'blockdev'), zone: FX, readOnly: true }];

beforeAll(() => {
  execFileSync('make', ['-s', '-C', join(repoRoot, 'fixtures'), 'bin/blockdev/loopdev'], { stdio: 'pipe' });
});

const MOUNT_PY = `import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
def mount(src, dst, fstype, flags=0):
    r = libc.mount(src.encode(), dst.encode(), fstype.encode() if fstype else None, flags, None)
    return 0 if r == 0 else ctypes.get_errno()
def umount(dst):
    r = libc.umount2(dst.encode(), 0)
    return 0 if r == 0 else ctypes.get_errno()
`;

async function zone(script: string, py: string): Promise<{ code: number; text: string }> {
  const full = `${script}\ncat > /tmp/t.py <<'PY'\n${MOUNT_PY}${py}\nPY\npython3 /tmp/t.py`;
  const r = await runZone({ argv: ['/bin/sh', '-c', full], stdio: 'pipe', binds });
  return { code: r.exitCode, text: `${r.stdout?.toString() ?? ''}${r.stderr?.toString() ?? ''}` };
}

const MKFS = `mkdir -p /tmp/src /tmp/m && echo hello-from-image > /tmp/src/hello.txt && mkfs.ext4 -q -F -d /tmp/src /tmp/disk.img 8M >/dev/null 2>&1 && ${FX}/loopdev attach /tmp/disk.img >/dev/null`;

describe('mount(2) of ext4 on a zone loop device, served by fuse2fs', () => {
  it('mounts, reads the image, writes a file, unmounts; the file is in the image afterwards', async () => {
    const r = await zone(
      MKFS,
      `print('mount', mount('/dev/loop0', '/tmp/m', 'ext4'))
print('type', [l.split(' - ')[1].split()[0] for l in open('/proc/self/mountinfo') if ' /tmp/m ' in l])
print('read', open('/tmp/m/hello.txt').read().strip())
open('/tmp/m/new.txt', 'w').write('written in a zone\\n')
print('back', open('/tmp/m/new.txt').read().strip())
print('umount', umount('/tmp/m'))
print('gone', os.path.exists('/tmp/m/hello.txt'))
print('again', mount('/dev/loop0', '/tmp/m', 'ext4'))
print('kept', open('/tmp/m/new.txt').read().strip())
print('umount', umount('/tmp/m'))`,
    );
    expect(r.text).toContain('mount 0');
    expect(r.text).toMatch(/type \['fuse\.[a-z0-9]*'\]/); // a FUSE mount, not the kernel's ext4
    expect(r.text).toContain('read hello-from-image');
    expect(r.text).toContain('back written in a zone');
    expect(r.text).toContain('gone False');
    expect(r.text).toContain('again 0');
    expect(r.text).toContain('kept written in a zone');
    expect(r.text.match(/umount 0/g)?.length, r.text).toBe(2);
  });

  it('a hostile image fails to mount with an errno; a plain file is the kernel\'s to refuse', async () => {
    // A corrupted image: the ext4 magic kept, the rest of the superblock and
    // the group descriptors overwritten with random bytes.
    const r = await zone(
      `${MKFS}; mkfs.ext4 -q -F /tmp/bad.img 8M >/dev/null 2>&1; ` +
        `head -c 4096 /dev/urandom | dd of=/tmp/bad.img bs=1 seek=1024 conv=notrunc 2>/dev/null; ` +
        `printf '\\123\\357' | dd of=/tmp/bad.img bs=1 seek=1080 conv=notrunc 2>/dev/null; ${FX}/loopdev attach /tmp/bad.img >/dev/null`,
      `print('hostile', mount('/dev/loop1', '/tmp/m', 'ext4'))
print('plain-file', mount('/tmp/bad.img', '/tmp/m', 'ext4'))
print('mounted', any(' /tmp/m ' in l for l in open('/proc/self/mountinfo')))`,
    );
    expect(r.text).toMatch(/hostile (22|5|117)\b/); // EINVAL / EIO / EUCLEAN, never 0
    // Not a zone loop device: the kernel decides, and refuses ext4 in a user namespace.
    expect(r.text).toContain('plain-file 1\n');
    expect(r.text).toContain('mounted False');
  });
});

describe('mount(2) of vfat on a zone loop device, served by fusefat', () => {
  it('mounts, reads, writes, unmounts; the file is in the image afterwards; read-only when asked', async () => {
    const r = await zone(
      `mkdir -p /tmp/m && mkfs.vfat -C /tmp/fat.img 8192 >/dev/null && ${FX}/loopdev attach /tmp/fat.img >/dev/null`,
      `print('mount', mount('/dev/loop0', '/tmp/m', 'vfat'))
print('type', [l.split(' - ')[1].split()[0] for l in open('/proc/self/mountinfo') if ' /tmp/m ' in l])
open('/tmp/m/new.txt', 'w').write('written in a zone\\n')
print('back', open('/tmp/m/new.txt').read().strip())
print('umount', umount('/tmp/m'))
print('gone', os.path.exists('/tmp/m/new.txt'))
print('ro', mount('/dev/loop0', '/tmp/m', 'vfat', 1))
print('kept', open('/tmp/m/new.txt').read().strip())
try:
    open('/tmp/m/other.txt', 'w')
    print('write-ro 0')
except OSError as e:
    print('write-ro', e.errno)
print('umount', umount('/tmp/m'))`,
    );
    expect(r.text).toContain('mount 0');
    expect(r.text).toContain("type ['fuse.fusefat']"); // user space, not the kernel's vfat
    expect(r.text).toContain('back written in a zone');
    expect(r.text).toContain('gone False');
    expect(r.text).toContain('ro 0');
    expect(r.text).toContain('kept written in a zone');
    expect(r.text).toContain('write-ro 30'); // EROFS
    expect(r.text.match(/umount 0/g)?.length, r.text).toBe(2);
  });

  it('a hostile vfat image (a FAT boot sector, random tables and directories) fails or mounts in the driver; nothing else is touched', async () => {
    const r = await zone(
      `mkdir -p /tmp/m && mkfs.vfat -C /tmp/bad.img 8192 >/dev/null && ` +
        `head -c 65536 /dev/urandom | dd of=/tmp/bad.img bs=512 seek=1 conv=notrunc 2>/dev/null && ${FX}/loopdev attach /tmp/bad.img >/dev/null`,
      `r = mount('/dev/loop0', '/tmp/m', 'vfat')
print('hostile-mount', 'ok' if r == 0 else 'errno')
if r == 0:
    try: os.listdir('/tmp/m')
    except OSError: pass
    print('umount', umount('/tmp/m'))
print('left', any(' /tmp/m ' in l for l in open('/proc/self/mountinfo')))`,
    );
    expect(r.text).toMatch(/hostile-mount (ok|errno)/);
    expect(r.text).toContain('left False');
    expect(r.code, r.text).toBe(0);
  });
});

// squashfs: Debian's squashfuse (packages squashfuse, squashfs-tools for mksquashfs).
describe('mount(2) of squashfs on a zone loop device, served by squashfuse', () => {
  it('mounts read-only (as the kernel mounts squashfs), reads the image, unmounts; a corrupted one fails or mounts in the driver', async () => {
    const r = await zone(
      `mkdir -p /tmp/src /tmp/m && echo hello-from-squashfs > /tmp/src/hello.txt && mksquashfs /tmp/src /tmp/sq.img -quiet -no-progress >/dev/null && ` +
        `cp /tmp/sq.img /tmp/bad.img && head -c 4096 /dev/urandom | dd of=/tmp/bad.img bs=1 seek=96 conv=notrunc 2>/dev/null && ` +
        `${FX}/loopdev attach /tmp/sq.img >/dev/null && ${FX}/loopdev attach /tmp/bad.img >/dev/null`,
      `print('mount', mount('/dev/loop0', '/tmp/m', 'squashfs'))
print('type', [l.split(' - ')[1].split()[0] for l in open('/proc/self/mountinfo') if ' /tmp/m ' in l])
print('read', open('/tmp/m/hello.txt').read().strip())
try:
    open('/tmp/m/other.txt', 'w')
    print('write 0')
except OSError as e:
    print('write', e.errno)
print('umount', umount('/tmp/m'))
r = mount('/dev/loop1', '/tmp/m', 'squashfs')
print('hostile-mount', 'ok' if r == 0 else 'errno')
if r == 0:
    try: os.listdir('/tmp/m')
    except OSError: pass
    print('umount', umount('/tmp/m'))
print('left', any(' /tmp/m ' in l for l in open('/proc/self/mountinfo')))`,
    );
    expect(r.text).toContain('mount 0');
    expect(r.text).toContain("type ['fuse.squashfuse']"); // user space, not the kernel's squashfs
    expect(r.text).toContain('read hello-from-squashfs');
    expect(r.text).toContain('write 30'); // EROFS
    expect(r.text).toMatch(/hostile-mount (ok|errno)/);
    expect(r.text).toContain('left False');
    expect(r.text).toMatch(/^umount 0$/m);
    expect(r.code, r.text).toBe(0);
  });
});
