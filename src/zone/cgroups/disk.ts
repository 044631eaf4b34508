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
import { copyDiskTemplate, diskTemplate } from './disk-template.js';

const MIN_SIZE = 16 * 1024 * 1024; // below this ext4 overhead eats most of the space

function checkSize(sizeBytes: number): void {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes < MIN_SIZE) {
    throw new LxzoneError(`resources.diskBytes: ${sizeBytes} must be an integer number of bytes >= ${MIN_SIZE}`, { where: 'resources.diskBytes' });
  }
}

const GIB = 1024 ** 3;

/**
 * mkfs.ext4's options for a new zone disk: formatted in ~60 ms with ~200 KiB
 * written, where the defaults took ~200 ms and wrote 65 MiB into every
 * zone's disk (measured on a sparse 2 GiB image; bench/sections/images.ts).
 * - `-m 0`: no blocks reserved for root (the zone's root gets the whole cap).
 * - `lazy_journal_init`: the 64 MiB journal is not zeroed. The image is a
 *   fresh sparse file, so it reads as zeros already; zeroing it only
 *   allocated 64 MiB of the host's disk per zone.
 * - `lazy_itable_init`: the inode tables are not zeroed either (same
 *   reason); the kernel's lazy init at mount zeroes them by discarding,
 *   which a loop device turns into hole punches: still nothing allocated.
 * - `resize=`: the blocks reserved to grow the group descriptors online are
 *   sized for 128x the disk (at least 64 GiB; 256 GiB for the default 2 GiB)
 *   instead of mke2fs's 1024x: those reserved blocks and their backups were
 *   ~1 MiB of every disk, now ~0.1 MiB. Past it the kernel refuses to grow
 *   the mounted filesystem (EPERM, as without CAP_SYS_RESOURCE); resize2fs
 *   grows it offline at the next boot (growZoneDisk says so): `update
 *   --disk` is not bounded by it.
 * - `metadata_csum_seed`: the metadata checksums' seed is kept in the
 *   superblock, so a copy of a template disk can take a UUID of its own by
 *   changing its superblocks alone (disk-template.ts).
 * Small disks (< 512 MiB) keep mke2fs's 1 KiB-block layout, without `resize=`.
 */
function mkfsOptions(sizeBytes: number): string[] {
  const ext = ['root_owner=0:0', 'lazy_itable_init=1', 'lazy_journal_init=1'];
  const opts = ['-m', '0', '-O', 'metadata_csum,metadata_csum_seed'];
  if (sizeBytes >= 512 * 1024 ** 2) {
    const blocks = Math.min(2 ** 32 - 1, Math.floor(Math.max(64 * GIB, 128 * sizeBytes) / 4096));
    opts.push('-b', '4096');
    ext.push(`resize=${blocks}`);
  }
  return [...opts, '-E', ext.join(',')];
}

const mkfs = (sizeBytes: number) => (image: string) => run('mkfs.ext4', ['-q', '-F', ...mkfsOptions(sizeBytes), '-L', 'lxzone', image]).then(() => undefined);

/**
 * Create the image (sparse file + ext4) if it does not exist. An existing
 * image is kept as is (its data is the zone's). With `templatesDir`, the
 * image is a copy of a template made once per size (disk-template.ts: no
 * mkfs process per disk, a UUID of its own); without, or when the template
 * cannot serve, mkfs.ext4 makes it.
 */
export async function createDiskImage(image: string, sizeBytes: number, o: { templatesDir?: string } = {}): Promise<boolean> {
  checkSize(sizeBytes);
  try {
    await fs.access(image);
    return false;
  } catch {}
  const tmp = `${image}.tmp.${process.pid}`;
  try {
    // A template that cannot be made (a host filesystem without FIEMAP for filefrag): mkfs per disk.
    const template = o.templatesDir === undefined ? undefined : await diskTemplate(o.templatesDir, sizeBytes, mkfsOptions(sizeBytes), mkfs(sizeBytes)).catch(() => undefined);
    if (!template || !(await copyDiskTemplate(template, tmp))) {
      await fs.rm(tmp, { force: true });
      await (await fs.open(tmp, 'wx', 0o600)).close();
      await fs.truncate(tmp, sizeBytes); // sparse: blocks are only allocated as the zone writes
      await mkfs(sizeBytes)(tmp);
    }
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

/**
 * How long a zone disk's filesystem may take to go after its last host
 * mount is gone. A mount namespace that copied the mount keeps the
 * filesystem (and its loop device) alive: an ending zone's, which the
 * kernel tears down asynchronously after its last process exited (under
 * load that takes seconds). Zones' other namespaces hold no copy: the shim
 * detaches what of the host's mounts a zone does not see, and its UTS
 * sysctl server keeps none (native/shim/mounts/host_copies.cc
 * detach_unseen, uts_server_sandbox.cc enter_uts_server_sandbox); a process
 * of a zone started by an older lxzone, or any other program's mount
 * namespace cloned while the disk was mounted, still may, for as long as
 * it lives.
 */
export const DISK_RELEASE_WAIT_MS = 10_000;

/** The loop devices backing `image` (losetup -j matches the file's device and inode), e.g. ["/dev/loop3"]. */
async function loopDevices(image: string): Promise<string[]> {
  const { stdout } = await run('losetup', ['-n', '-O', 'NAME', '-j', image]).catch(() => ({ stdout: '' })); // no such file: none
  return stdout.split('\n').map((s) => s.trim()).filter(Boolean);
}

/** Waits (up to `ms`) until no loop device backs `image`, i.e. no filesystem of it lives anywhere; whether none does. */
export async function waitDiskReleased(image: string, ms = DISK_RELEASE_WAIT_MS): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
    if ((await loopDevices(image)).length === 0) return true;
    if (Date.now() >= deadline) return false;
    await sleep(delay);
  }
}

/**
 * Loop-mount the image at `target` (nosuid, nodev), first growing the
 * filesystem to the file's size if a growDiskImage() could not do it online.
 * The loop device is released (autoclear) when the filesystem goes.
 *
 * If a filesystem of the image still lives (see DISK_RELEASE_WAIT_MS) and
 * the image has grown, it is waited for: e2fsck and resize2fs on the image
 * under a live filesystem corrupt it (the live one writes its old superblock
 * back), and the mount would get the live filesystem anyway, at its old
 * size (up to GROWTH_RELEASE_WAIT_MS). With no growth pending the wait is short (SHORT_RELEASE_WAIT_MS).
 * Still alive after the wait: mounted as it is (mount -o loop re-uses its loop device, so the
 * kernel gives the same filesystem, never a second one on the same image)
 * and grown online if it needs it and the kernel lets us.
 */
export async function mountDiskImage(image: string, target: string, o: { releaseWaitMs?: number } = {}): Promise<void> {
  // Only a growth needs the filesystem gone (e2fsck, resize2fs); without one a
  // filesystem held elsewhere for long (a namespace that copied the mount)
  // is mounted as it is after a short wait, not after the whole one.
  const grow = await diskNeedsGrowth(image);
  const wait = o.releaseWaitMs ?? (grow ? GROWTH_RELEASE_WAIT_MS : DISK_RELEASE_WAIT_MS);
  let released = await waitDiskReleased(image, grow ? wait : Math.min(wait, SHORT_RELEASE_WAIT_MS));
  if (released) await growOffline(image);
  await fs.mkdir(target, { recursive: true });
  try {
    await run('mount', ['-t', 'ext4', '-o', 'loop,nosuid,nodev', image, target]);
  } catch (err) {
    // The filesystem held elsewhere went while mount re-used its loop device
    // (autoclear): once it is gone, mount afresh.
    if (released || !(released = await waitDiskReleased(image, wait))) throw err;
    await growOffline(image);
    await run('mount', ['-t', 'ext4', '-o', 'loop,nosuid,nodev', image, target]);
  }
  if (!released && (await diskNeedsGrowth(image))) await growOnline(image).catch(() => undefined); // else at a later mount
}

/** How long a mount that needs no growth waits for a filesystem of the image still alive elsewhere before re-using it. */
const SHORT_RELEASE_WAIT_MS = 1_000;

/**
 * How long a mount with a growth pending waits for the image's filesystem to
 * go. What still holds it then is the zone's own last mount namespace, torn
 * down by the kernel after its last process (no other zone's namespace
 * keeps a copy: the shim detaches them), which ends, if slowly on a loaded
 * host (past 10 s at a load of hundreds).
 */
const GROWTH_RELEASE_WAIT_MS = 30_000;

/**
 * Unmount, then wait (bounded, see DISK_RELEASE_WAIT_MS) until the image's
 * filesystem and loop device are gone. Never `losetup -d`: the device of a
 * live filesystem only gets autoclear (which mount -o loop set already),
 * and a device freed meanwhile may be another image's by then.
 */
export async function unmountDiskImage(target: string, o: { releaseWaitMs?: number } = {}): Promise<void> {
  const line = (await fs.readFile('/proc/self/mountinfo', 'utf8')).split('\n').find((l) => l.split(' ')[4] === target);
  const source = line?.split(' - ')[1]?.split(' ')[1];
  const m = source ? /^\/dev\/(loop\d+)$/.exec(source) : null;
  // The image as its loop device names it (a removed one's name finds no device: nothing to wait for).
  const image = m ? await fs.readFile(`/sys/block/${m[1]}/loop/backing_file`, 'utf8').then((b) => b.trim(), () => undefined) : undefined;
  await run('umount', [target]);
  if (image) await waitDiskReleased(image, o.releaseWaitMs);
}

/** The loop devices of `image` that hold a filesystem mounted in this mount namespace (not one being torn down). */
async function mountedLoopDevices(image: string): Promise<string[]> {
  const mounted = new Set((await fs.readFile('/proc/self/mountinfo', 'utf8')).split('\n').map((l) => l.split(' ')[2]));
  const out: string[] = [];
  for (const dev of await loopDevices(image)) {
    const majMin = await fs.readFile(`/sys/block/${dev.replace(/^\/dev\//, '')}/dev`, 'utf8').then((s) => s.trim(), () => undefined);
    if (majMin && mounted.has(majMin)) out.push(dev);
  }
  return out;
}

/** Grow the mounted filesystem of `image` to the file's size (the ext4 resize ioctl). False when it is not mounted here. */
async function growOnline(image: string): Promise<boolean> {
  const loops = await mountedLoopDevices(image);
  if (loops.length === 0) return false;
  for (const dev of loops) await run('losetup', ['-c', dev]); // make the loop device see the new size
  await run('resize2fs', [loops[0]!]);
  return true;
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
  try {
    if (await growOnline(image)) return;
  } catch (err) {
    if (!/Permission denied/.test(String(err))) throw err;
    // The ext4 resize ioctl needs CAP_SYS_RESOURCE (some sandboxes drop it),
    // and room reserved at mkfs for the growth's group descriptors (mkfsOptions).
    throw new LxzoneError(
      `resources.diskBytes: the mounted zone disk ${image} cannot grow online (that needs CAP_SYS_RESOURCE, and a growth within the 128x its filesystem reserved for online resizing); the image is already ${sizeBytes} bytes and its filesystem grows at the next mount (zone boot)`,
      { code: 'EPERM', where: 'resources.diskBytes', cause: err },
    );
  }
  // Not mounted here. A filesystem of it that still lives elsewhere (an ending
  // zone's, or copied into another zone's namespace) must go first: not waited
  // for, the next mount grows it (offline once it is gone, else online).
  if (await waitDiskReleased(image, 0)) await growOffline(image);
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
