// The disk cap: a zone's persistent writable storage is an ext4 image of the
// capped size; writing past it fails with ENOSPC, the data survives a
// remount (halt/boot), the cap grows online, and unmounting releases the
// loop device. Scratch tmpfs with tmpfsOptions() is capped the same way.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createDiskImage,
  diskUsage,
  growDiskImage,
  mountDiskImage,
  tmpfsOptions,
  unmountDiskImage,
} from '../src/zone/cgroups/index.js';

const MiB = 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), 'lxzone-disk-'));
const image = join(dir, 'disk.img');
const mnt = join(dir, 'mnt');
const scratch = join(dir, 'scratch');

function mounted(path: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === path);
}

/** dd MiB of zeros into file; returns dd's exit status and stderr. */
function fill(file: string, mib: number): { status: number | null; stderr: string } {
  const r = spawnSync('dd', ['if=/dev/zero', `of=${file}`, 'bs=1M', `count=${mib}`, 'conv=fsync'], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

afterAll(() => {
  for (const m of [mnt, scratch]) if (mounted(m)) spawnSync('umount', ['-l', m]);
  rmSync(dir, { recursive: true, force: true });
});

describe('disk cap (ext4 image)', () => {
  it('creates a sparse image once, keeping an existing one', async () => {
    expect(await createDiskImage(image, 32 * MiB)).toBe(true);
    expect(statSync(image).size).toBe(32 * MiB);
    expect(statSync(image).blocks * 512).toBeLessThan(32 * MiB); // sparse
    expect(await createDiskImage(image, 64 * MiB)).toBe(false);
    await expect(createDiskImage(join(dir, 'tiny.img'), 1000)).rejects.toThrow(/resources.diskBytes: 1000/);
  });

  it('refuses writes beyond the cap with ENOSPC', async () => {
    await mountDiskImage(image, mnt);
    const u = await diskUsage(mnt);
    expect(u.size).toBeLessThanOrEqual(32 * MiB);
    expect(u.size).toBeGreaterThan(20 * MiB);
    const r = fill(join(mnt, 'big'), 48);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/No space left on device/);
    expect(statSync(join(mnt, 'big')).size).toBeLessThan(32 * MiB);
  });

  it('keeps the data across unmount/mount and grows online', async () => {
    execFileSync('sh', ['-c', `rm ${join(mnt, 'big')} && echo kept > ${join(mnt, 'marker')}`]);
    await unmountDiskImage(mnt);
    expect(execFileSync('losetup', ['-n', '-j', image]).toString().trim()).toBe(''); // loop device released
    await mountDiskImage(image, mnt);
    expect(readFileSync(join(mnt, 'marker'), 'utf8')).toBe('kept\n');
    // Online growth needs CAP_SYS_RESOURCE (the ext4 resize ioctl); without it the new size applies at the next mount.
    const capSysResource = (BigInt('0x' + /^CapEff:\s+(\w+)/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]) >> 24n) & 1n;
    if (capSysResource) await growDiskImage(image, 64 * MiB);
    else {
      await expect(growDiskImage(image, 64 * MiB)).rejects.toThrow(/cannot grow online \(that needs CAP_SYS_RESOURCE.*grows at the next mount/);
      await unmountDiskImage(mnt);
      await mountDiskImage(image, mnt);
    }
    expect(statSync(image).size).toBe(64 * MiB);
    expect((await diskUsage(mnt)).size).toBeGreaterThan(50 * MiB);
    expect(fill(join(mnt, 'forty'), 40).status).toBe(0);
    expect(readFileSync(join(mnt, 'marker'), 'utf8')).toBe('kept\n');
    await expect(growDiskImage(image, 32 * MiB)).rejects.toThrow(/can only grow/);
    await unmountDiskImage(mnt);
    await growDiskImage(image, 80 * MiB); // offline
    await mountDiskImage(image, mnt);
    expect((await diskUsage(mnt)).size).toBeGreaterThan(66 * MiB); // larger than the whole 64 MiB image was
    await unmountDiskImage(mnt);
    expect(mounted(mnt)).toBe(false);
    expect(execFileSync('losetup', ['-n', '-j', image]).toString().trim()).toBe('');
  });
});

describe('a copy-on-write zone\'s default disk (2 GiB, sparse)', () => {
  const GiB = 1024 * MiB;
  const big = join(dir, 'big.img');

  it('takes little of the host\'s disk when made: journal and inode tables not zeroed, a small online-growth reserve', async () => {
    expect(await createDiskImage(big, 2 * GiB)).toBe(true);
    // mke2fs's defaults wrote ~65 MiB (the zeroed journal) plus ~1 MiB of growth reserve.
    expect(statSync(big).blocks * 512).toBeLessThan(1 * MiB);
    await mountDiskImage(big, mnt);
    try {
      expect((await diskUsage(mnt)).size).toBeGreaterThan(1.9 * GiB);
      execFileSync('sh', ['-c', `echo kept > ${join(mnt, 'marker')}`]);
    } finally {
      await unmountDiskImage(mnt);
    }
    // The kernel's lazy inode-table init at mount punches holes: still sparse.
    expect(statSync(big).blocks * 512).toBeLessThan(2 * MiB);
    const fsck = spawnSync('e2fsck', ['-f', '-n', big], { encoding: 'utf8' });
    expect(fsck.stdout + fsck.stderr).toMatch(/\d+\/\d+ files/);
    expect(fsck.status).toBe(0);
  });

  it('grows past its online-resize reserve: refused while mounted, done at the next mount', async () => {
    await mountDiskImage(big, mnt);
    // 300 GiB is past the 128x (256 GiB) reserved for online growth: the
    // kernel refuses it (EPERM, said as such), the next mount grows it offline.
    await expect(growDiskImage(big, 300 * GiB)).rejects.toThrow(/cannot grow online.*grows at the next mount/);
    await unmountDiskImage(mnt);
    await mountDiskImage(big, mnt);
    try {
      expect((await diskUsage(mnt)).size).toBeGreaterThan(290 * GiB);
      expect(readFileSync(join(mnt, 'marker'), 'utf8')).toBe('kept\n');
    } finally {
      await unmountDiskImage(mnt);
    }
    rmSync(big, { force: true });
  });
});

// A mount namespace copied from the host's while a zone disk is mounted (an
// ending zone's, torn down by the kernel after its last process; a host-root
// zone's) keeps the disk's filesystem and loop device alive after the host's
// umount. Once, a reboot's offline growth ran e2fsck and resize2fs on the
// image under such a live filesystem, and the mount got the live one back at
// its old size (test/80.lifecycle.image-store, under load).
describe("a zone disk whose filesystem outlives its host mount (another mount namespace holds it)", () => {
  const held = join(dir, 'held.img');
  const holders: { p: ChildProcess; exited: Promise<unknown> }[] = [];
  const loops = () => execFileSync('losetup', ['-n', '-j', held]).toString().trim().split('\n').filter(Boolean);
  const fsckClean = () => {
    const r = spawnSync('e2fsck', ['-f', '-n', held], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  };

  /** A process in a mount namespace of its own, copied from ours now (the disk mounted): it holds the filesystem until it exits. */
  async function holdFor(seconds: number): Promise<ChildProcess> {
    const p = spawn('unshare', ['-m', '--propagation', 'private', 'sleep', String(seconds)], { stdio: 'ignore' });
    holders.push({ p, exited: new Promise((r) => p.once('exit', r)) });
    const own = readlinkSync('/proc/self/ns/mnt');
    const ns = () => {
      try {
        return readlinkSync(`/proc/${p.pid}/ns/mnt`);
      } catch {
        return own;
      }
    };
    for (let i = 0; i < 3000 && ns() === own; i++) await sleep(10);
    expect(ns(), 'the holder runs in a mount namespace of its own').not.toBe(own);
    return p;
  }

  afterAll(async () => {
    for (const h of holders) {
      h.p.kill('SIGKILL');
      await h.exited;
    }
  });

  it('unmount returns once the filesystem is gone (its loop device released), not while a namespace still holds it', async () => {
    expect(await createDiskImage(held, 32 * MiB)).toBe(true);
    await mountDiskImage(held, mnt);
    writeFileSync(join(mnt, 'marker'), 'kept\n');
    await holdFor(2);
    await unmountDiskImage(mnt, { releaseWaitMs: 60_000 });
    expect(mounted(mnt)).toBe(false);
    expect(loops()).toEqual([]);
    fsckClean();
  });

  it('mount waits for a filesystem still alive before growing the image offline (no e2fsck/resize2fs under it)', async () => {
    await mountDiskImage(held, mnt);
    await holdFor(2);
    execFileSync('umount', [mnt]); // the host's mount is gone, the filesystem not yet
    expect(loops()).toHaveLength(1);
    truncateSync(held, 64 * MiB); // a growth for the next mount
    await mountDiskImage(held, mnt, { releaseWaitMs: 60_000 });
    try {
      expect((await diskUsage(mnt)).size).toBeGreaterThan(50 * MiB);
      expect(readFileSync(join(mnt, 'marker'), 'utf8')).toBe('kept\n');
    } finally {
      await unmountDiskImage(mnt, { releaseWaitMs: 60_000 });
    }
    fsckClean();
  });

  it('a filesystem alive past the wait is mounted as it is (one filesystem, its loop device re-used) and grown online', async () => {
    await mountDiskImage(held, mnt);
    const holder = await holdFor(600); // killed below
    execFileSync('umount', [mnt]);
    truncateSync(held, 96 * MiB);
    await mountDiskImage(held, mnt, { releaseWaitMs: 200 });
    try {
      expect(loops()).toHaveLength(1); // never a second filesystem on the same image
      expect(readFileSync(join(mnt, 'marker'), 'utf8')).toBe('kept\n');
      // Online growth needs CAP_SYS_RESOURCE (the ext4 resize ioctl); without it the growth waits for a later mount.
      const capSysResource = (BigInt('0x' + /^CapEff:\s+(\w+)/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]) >> 24n) & 1n;
      if (capSysResource) expect((await diskUsage(mnt)).size).toBeGreaterThan(80 * MiB);
    } finally {
      holder.kill('SIGKILL');
      await unmountDiskImage(mnt, { releaseWaitMs: 60_000 });
    }
    expect(loops()).toEqual([]);
    fsckClean();
    rmSync(held, { force: true });
  });
});

describe('scratch tmpfs', () => {
  it('caps a tmpfs mounted with tmpfsOptions()', () => {
    execFileSync('mkdir', ['-p', scratch]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', `${tmpfsOptions(8 * MiB)},nosuid,nodev`, 'lxzone-scratch', scratch]);
    try {
      const r = fill(join(scratch, 'big'), 16);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(/No space left on device/);
    } finally {
      execFileSync('umount', [scratch]);
    }
    expect(existsSync(join(scratch, 'big'))).toBe(false);
  });
});

describe('zone disks copied from a template (disk-template.ts)', () => {
  const GiB = 1024 * MiB;
  const templates = join(dir, 'templates');
  const uuid = (img: string) => execFileSync('blkid', ['-p', '-o', 'value', '-s', 'UUID', img], { encoding: 'utf8' }).trim();

  it('makes the template once per size; each copy is sparse, fsck-clean, with a UUID of its own in every superblock, and mounts and grows', async () => {
    const copies = [0, 1, 2].map((i) => join(dir, `copy${i}.img`));
    for (const c of copies) expect(await createDiskImage(c, 2 * GiB, { templatesDir: templates })).toBe(true);
    const made = readdirSync(templates);
    expect(made).toHaveLength(1);
    const tpl = join(templates, made[0]!, 'disk.img');
    const uuids = new Set([uuid(tpl), ...copies.map(uuid)]);
    expect(uuids.size).toBe(4);
    for (const c of copies) {
      expect(statSync(c).size).toBe(2 * GiB);
      expect(statSync(c).blocks * 512).toBeLessThan(1 * MiB);
      const fsck = spawnSync('e2fsck', ['-f', '-n', c], { encoding: 'utf8' });
      expect(fsck.status, fsck.stdout + fsck.stderr).toBe(0);
      // A backup superblock (group 1, 4 KiB blocks) carries the copy's UUID too, with a valid checksum.
      const backup = spawnSync('dumpe2fs', ['-h', '-o', 'superblock=32768', '-o', 'blocksize=4096', c], { encoding: 'utf8' });
      expect(backup.status, backup.stderr).toBe(0);
      expect(backup.stderr).not.toMatch(/checksum/i);
      expect(backup.stdout).toContain(`Filesystem UUID:          ${uuid(c)}`);
    }
    // Another size: another template.
    expect(await createDiskImage(join(dir, 'small-copy.img'), 32 * MiB, { templatesDir: templates })).toBe(true);
    expect(readdirSync(templates)).toHaveLength(2);
    // A copy is a working disk: written, unmounted, grown offline, still clean.
    await mountDiskImage(copies[0]!, mnt);
    try {
      writeFileSync(join(mnt, 'marker'), 'kept\n');
    } finally {
      await unmountDiskImage(mnt);
    }
    await growDiskImage(copies[0]!, 3 * GiB);
    await mountDiskImage(copies[0]!, mnt);
    try {
      expect((await diskUsage(mnt)).size).toBeGreaterThan(2.8 * GiB);
      expect(readFileSync(join(mnt, 'marker'), 'utf8')).toBe('kept\n');
    } finally {
      await unmountDiskImage(mnt);
    }
    expect(spawnSync('e2fsck', ['-f', '-n', copies[0]!]).status).toBe(0);
  }, 60_000);

  it('a template whose superblock cannot take a new UUID alone (no metadata_csum_seed) is not patched: the disk is made by mkfs', async () => {
    // Spoil the template: mkfs'd again without the seed feature, same size.
    const made = readdirSync(templates).map((n) => join(templates, n)).find((d) => statSync(join(d, 'disk.img')).size === 32 * MiB)!;
    execFileSync('mkfs.ext4', ['-q', '-F', '-O', '^metadata_csum_seed', join(made, 'disk.img')]);
    const before = uuid(join(made, 'disk.img'));
    const c = join(dir, 'fallback.img');
    expect(await createDiskImage(c, 32 * MiB, { templatesDir: templates })).toBe(true);
    expect(uuid(c)).not.toBe(before);
    expect(execFileSync('dumpe2fs', ['-h', c], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })).toMatch(/features:.*metadata_csum_seed/);
    expect(spawnSync('e2fsck', ['-f', '-n', c]).status).toBe(0);
  });
});
