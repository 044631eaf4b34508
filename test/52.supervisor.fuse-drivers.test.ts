// mount(2) of ntfs (ntfs-3g), iso9660 (fuseiso) and exfat (exfat-fuse) images on a zone's own
// loop device (issue 21 part 1, continued from test/52.supervisor.block-mounts):
// served in user space by Debian's drivers with the zone's privileges, never
// by the host kernel. Each image is made in the zone (mkntfs, genisoimage, mkfs.exfat); a
// corrupted one fails or mounts in the driver and leaves nothing mounted.
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
def fstype(dst):
    return [l.split(' - ')[1].split()[0] for l in open('/proc/self/mountinfo') if ' %s ' % dst in l]
def write(path, text):
    try:
        open(path, 'w').write(text)
        return 0
    except OSError as e:
        return e.errno
def hostile(dev, fstype_):
    r = mount(dev, '/tmp/m', fstype_)
    print('hostile-mount', 'ok' if r == 0 else 'errno')
    if r == 0:
        try: os.listdir('/tmp/m')
        except OSError: pass
        print('hostile-umount', umount('/tmp/m'))
    print('left', any(' /tmp/m ' in l for l in open('/proc/self/mountinfo')))
`;

async function zone(script: string, py: string): Promise<{ code: number; text: string }> {
  const full = `${script}\ncat > /tmp/t.py <<'PY'\n${MOUNT_PY}${py}\nPY\npython3 /tmp/t.py`;
  const r = await runZone({ argv: ['/bin/sh', '-c', full], stdio: 'pipe', binds });
  return { code: r.exitCode, text: `${r.stdout?.toString() ?? ''}${r.stderr?.toString() ?? ''}` };
}

describe('mount(2) of ntfs on a zone loop device, served by ntfs-3g', () => {
  it('mounts, writes, unmounts, mounts read-only and finds the file; a corrupted image leaves nothing mounted', async () => {
    const r = await zone(
      `mkdir -p /tmp/m && truncate -s 8M /tmp/nt.img && mkntfs -F -q -f /tmp/nt.img >/dev/null 2>&1 && ` +
        `cp /tmp/nt.img /tmp/bad.img && head -c 65536 /dev/urandom | dd of=/tmp/bad.img bs=512 seek=1 conv=notrunc 2>/dev/null && ` +
        `${FX}/loopdev attach /tmp/nt.img >/dev/null && ${FX}/loopdev attach /tmp/bad.img >/dev/null`,
      `print('mount', mount('/dev/loop0', '/tmp/m', 'ntfs'))
print('type', fstype('/tmp/m'))
print('write', write('/tmp/m/new.txt', 'written in a zone\\n'))
print('back', open('/tmp/m/new.txt').read().strip())
print('umount', umount('/tmp/m'))
print('gone', os.path.exists('/tmp/m/new.txt'))
print('ro', mount('/dev/loop0', '/tmp/m', 'ntfs', 1))
print('kept', open('/tmp/m/new.txt').read().strip())
print('write-ro', write('/tmp/m/other.txt', 'x'))
print('umount', umount('/tmp/m'))
hostile('/dev/loop1', 'ntfs')`,
    );
    expect(r.text).toContain('mount 0\n');
    expect(r.text).toMatch(/type \['fuse(\.[a-z0-9-]+)?'\]/); // user space, not the kernel's ntfs3
    expect(r.text).toContain('write 0\n');
    expect(r.text).toContain('back written in a zone');
    expect(r.text).toContain('gone False');
    expect(r.text).toContain('ro 0\n');
    expect(r.text).toContain('kept written in a zone');
    expect(r.text).toContain('write-ro 30'); // EROFS
    expect(r.text.match(/^umount 0$/gm)?.length, r.text).toBe(2);
    expect(r.text).toMatch(/hostile-mount (ok|errno)/);
    expect(r.text).toContain('left False');
    expect(r.code, r.text).toBe(0);
  });
});

describe('mount(2) of iso9660 on a zone loop device, served by fuseiso', () => {
  it('mounts read-only (as the kernel mounts iso9660), reads the image; a corrupted one leaves nothing mounted', async () => {
    const r = await zone(
      `mkdir -p /tmp/src /tmp/m && echo hello-from-iso > /tmp/src/hello.txt && genisoimage -quiet -R -J -o /tmp/cd.iso /tmp/src 2>/dev/null && ` +
        `cp /tmp/cd.iso /tmp/bad.iso && head -c 8192 /dev/urandom | dd of=/tmp/bad.iso bs=2048 seek=16 conv=notrunc 2>/dev/null && ` +
        `${FX}/loopdev attach /tmp/cd.iso >/dev/null && ${FX}/loopdev attach /tmp/bad.iso >/dev/null`,
      `print('mount', mount('/dev/loop0', '/tmp/m', 'iso9660'))
print('type', fstype('/tmp/m'))
print('read', open('/tmp/m/hello.txt').read().strip())
print('write', write('/tmp/m/other.txt', 'x'))
print('umount', umount('/tmp/m'))
hostile('/dev/loop1', 'iso9660')`,
    );
    expect(r.text).toContain('mount 0\n');
    expect(r.text).toContain("type ['fuse.fuseiso']"); // user space, not the kernel's isofs
    expect(r.text).toContain('read hello-from-iso');
    expect(r.text).toMatch(/write (30|13|1)\n/); // EROFS (or the driver's refusal), never written
    expect(r.text).toMatch(/^umount 0$/m);
    expect(r.text).toMatch(/hostile-mount (ok|errno)/);
    expect(r.text).toContain('left False');
    expect(r.code, r.text).toBe(0);
  });
});

// exfat-fuse asks libfuse 2 for a fuseblk mount whatever its source; in the
// driver's root lxzone's own fusermount makes it a plain fuse mount.
describe('mount(2) of exfat on a zone loop device, served by exfat-fuse', () => {
  it('mounts, writes, unmounts, mounts read-only and finds the file; a corrupted image leaves nothing mounted', async () => {
    const r = await zone(
      `mkdir -p /tmp/m && truncate -s 8M /tmp/ex.img && mkfs.exfat /tmp/ex.img >/dev/null 2>&1 && ` +
        `cp /tmp/ex.img /tmp/bad.img && head -c 65536 /dev/urandom | dd of=/tmp/bad.img bs=512 seek=1 conv=notrunc 2>/dev/null && ` +
        `${FX}/loopdev attach /tmp/ex.img >/dev/null && ${FX}/loopdev attach /tmp/bad.img >/dev/null`,
      `print('mount', mount('/dev/loop0', '/tmp/m', 'exfat'))
print('type', fstype('/tmp/m'))
print('write', write('/tmp/m/new.txt', 'written in a zone\\n'))
print('back', open('/tmp/m/new.txt').read().strip())
print('umount', umount('/tmp/m'))
print('gone', os.path.exists('/tmp/m/new.txt'))
print('ro', mount('/dev/loop0', '/tmp/m', 'exfat', 1))
print('kept', open('/tmp/m/new.txt').read().strip())
print('write-ro', write('/tmp/m/other.txt', 'x'))
print('umount', umount('/tmp/m'))
hostile('/dev/loop1', 'exfat')`,
    );
    expect(r.text).toContain('mount 0\n');
    expect(r.text).toMatch(/type \['fuse(\.[a-z0-9-]+)?'\]/); // user space, never fuseblk or the kernel's exfat
    expect(r.text).toContain('write 0\n');
    expect(r.text).toContain('back written in a zone');
    expect(r.text).toContain('gone False');
    expect(r.text).toContain('ro 0\n');
    expect(r.text).toContain('kept written in a zone');
    expect(r.text).toContain('write-ro 30'); // EROFS
    expect(r.text.match(/^umount 0$/gm)?.length, r.text).toBe(2);
    expect(r.text).toMatch(/hostile-mount (ok|errno)/);
    expect(r.text).toContain('left False');
    expect(r.code, r.text).toBe(0);
  });
});
