// The disk cap of a zone's writable storage. cgroups cap memory, CPU and
// tasks but not bytes on a filesystem, so the cap is a filesystem of that size:
//  - persistent storage: a sparse ext4 image file (under the zone's state dir)
//    loop-mounted nosuid,nodev — a hard cap that survives halt/boot, grows
//    online (truncate + resize2fs), and costs no host filesystem support
//    (XFS project quotas would need the host's /var/lib on XFS with prjquota);
//  - scratch storage: tmpfs with size= (pages are also charged to the zone's
//    memory cgroup, so tmpfs can never exceed the memory cap either).
import { promises as fs } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { LxzoneError } from '../../errors.js';
import { run } from '../network/exec.js';

const MIN_SIZE = 16 * 1024 * 1024; // below this ext4 overhead eats most of the space

function checkSize(sizeBytes: number): void {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes < MIN_SIZE) {
    throw new LxzoneError(`resources.diskBytes: ${sizeBytes} must be an integer number of bytes >= ${MIN_SIZE}`, { where: 'resources.diskBytes' });
  }
}

/** Create the image (sparse file + ext4) if it does not exist. An existing image is kept as is (its data is the zone's). */
export async function createDiskImage(image: string, sizeBytes: number): Promise<boolean> {
  checkSize(sizeBytes);
  try {
    await fs.access(image);
    return false;
  } catch {}
  const tmp = `${image}.tmp.${process.pid}`;
  const fh = await fs.open(tmp, 'wx', 0o600);
  try {
    await fh.truncate(sizeBytes); // sparse: blocks are only allocated as the zone writes
  } finally {
    await fh.close();
  }
  try {
    // -m 0: no blocks reserved for root (the zone's root should get the whole cap).
    await run('mkfs.ext4', ['-q', '-F', '-m', '0', '-L', 'lxzone', '-E', 'root_owner=0:0', tmp]);
    await fs.rename(tmp, image);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  return true;
}

/** Size in bytes of the ext4 filesystem inside the image (dumpe2fs -h). */
async function fsSize(image: string): Promise<number> {
  const { stdout } = await run('dumpe2fs', ['-h', image]);
  const count = Number(/^Block count:\s+(\d+)/m.exec(stdout)?.[1]);
  const bsize = Number(/^Block size:\s+(\d+)/m.exec(stdout)?.[1]);
  if (!count || !bsize) throw new LxzoneError(`${image}: not an ext4 image (dumpe2fs found no block count)`, { where: image });
  return count * bsize;
}

/** Whether the image file is bigger than its filesystem (a growth left for the next mount). */
export async function diskNeedsGrowth(image: string): Promise<boolean> {
  const { size } = await fs.stat(image);
  return (await fsSize(image)) < size - 1024 * 1024;
}

/** Offline growth to the image file's size: e2fsck first (resize2fs insists), then resize2fs. */
async function growOffline(image: string): Promise<void> {
  const { size } = await fs.stat(image);
  if ((await fsSize(image)) >= size - 1024 * 1024) return; // already spans the file (ext4 rounds to groups)
  // e2fsck -p exits 1 when it fixed something: still fine to resize.
  await run('e2fsck', ['-f', '-p', image]).catch((err) => {
    if (!/exit 1\)/.test(String(err))) throw err;
  });
  await run('resize2fs', [image]);
}

/** Loop-mount the image at `target` (nosuid, nodev), first growing the filesystem to the file's size if a
 *  growDiskImage() could not do it online. The loop device is released on unmount. */
export async function mountDiskImage(image: string, target: string): Promise<void> {
  await growOffline(image);
  await fs.mkdir(target, { recursive: true });
  await run('mount', ['-t', 'ext4', '-o', 'loop,nosuid,nodev', image, target]);
}

/** Unmount and make sure the loop device is gone (autoclear detaches asynchronously; detach it ourselves if it lingers). */
export async function unmountDiskImage(target: string): Promise<void> {
  const line = (await fs.readFile('/proc/self/mountinfo', 'utf8')).split('\n').find((l) => l.split(' ')[4] === target);
  const source = line?.split(' - ')[1]?.split(' ')[1];
  const m = source ? /^\/dev\/(loop\d+)$/.exec(source) : null;
  const backing = m ? `/sys/block/${m[1]}/loop/backing_file` : undefined;
  const backingOf = () => (backing ? fs.readFile(backing, 'utf8').then((b) => b.trim(), () => undefined) : Promise.resolve(undefined));
  const ours = await backingOf();
  await run('umount', [target]);
  if (!ours) return;
  for (let i = 0; i < 50; i++) {
    // Gone, or already another image's (freed and taken by another mount -o
    // loop meanwhile): nothing of ours to detach, and never detach theirs.
    if ((await backingOf()) !== ours) return;
    await sleep(10);
  }
  await run('losetup', ['-d', source!]).catch(() => {});
}

/** The loop devices backing `image`, if it is mounted. */
async function loopDevices(image: string): Promise<string[]> {
  const { stdout } = await run('losetup', ['-n', '-O', 'NAME', '-j', image]);
  return stdout.split('\n').map((s) => s.trim()).filter(Boolean);
}

/** Grow the image to `sizeBytes`, online when mounted. Shrinking is refused (ext4 cannot shrink while mounted). */
export async function growDiskImage(image: string, sizeBytes: number): Promise<void> {
  checkSize(sizeBytes);
  const { size } = await fs.stat(image);
  if (sizeBytes < size) {
    throw new LxzoneError(`resources.diskBytes: ${sizeBytes} is smaller than the zone's disk (${size}); a disk cap can only grow`, {
      where: 'resources.diskBytes',
    });
  }
  if (sizeBytes === size) return;
  await fs.truncate(image, sizeBytes);
  const loops = await loopDevices(image);
  if (loops.length === 0) return growOffline(image);
  for (const dev of loops) await run('losetup', ['-c', dev]); // make the loop device see the new size
  try {
    await run('resize2fs', [loops[0]]);
  } catch (err) {
    if (!/Permission denied/.test(String(err))) throw err;
    // The ext4 resize ioctl needs CAP_SYS_RESOURCE (some sandboxes drop it).
    throw new LxzoneError(
      `resources.diskBytes: growing the mounted zone disk ${image} online needs CAP_SYS_RESOURCE; the image is already ${sizeBytes} bytes and its filesystem grows at the next mount (zone boot)`,
      { code: 'EPERM', where: 'resources.diskBytes', cause: err },
    );
  }
}

export interface DiskUsage {
  size: number;
  used: number;
  available: number;
}

/** Usage of the filesystem mounted at `target` (statfs). */
export async function diskUsage(target: string): Promise<DiskUsage> {
  const s = await fs.statfs(target);
  return { size: s.blocks * s.bsize, used: (s.blocks - s.bfree) * s.bsize, available: s.bavail * s.bsize };
}

/** Mount options for a size-capped tmpfs (zone scratch storage), e.g. for the shim's mount(2) data argument. */
export function tmpfsOptions(sizeBytes: number, mode = 0o755): string {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 4096) {
    throw new LxzoneError(`tmpfs size ${sizeBytes} must be an integer number of bytes >= 4096`, { where: 'tmpfs' });
  }
  // nr_inodes as the shim sets it (native/shim/mounts.cc): one inode per page, at least 1024.
  return `size=${sizeBytes},nr_inodes=${Math.max(1024, Math.floor(sizeBytes / 4096))},mode=${mode.toString(8)}`;
}
