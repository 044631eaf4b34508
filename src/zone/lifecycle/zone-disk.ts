// The disk cap of an image zone's writable root. cgroups do not count bytes
// on a filesystem, so the root lives in a filesystem of the cap's size: an
// ext4 image file of `resources.diskBytes` in the zone's state directory
// (src/zone/cgroups/disk.ts), mounted while the zone runs and while create
// unpacks the image into it. The image is unpacked into rootfs/ inside it,
// next to its lost+found, so the unpack's rename stays on one filesystem.
// The zone's /tmp and /run are size-capped tmpfs (plan.ts) either way.
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createDiskImage, diskNeedsGrowth, growDiskImage, mountDiskImage, unmountDiskImage } from '../cgroups/disk.js';
import type { ZoneConfig } from '../config/types.js';
import type { LxzoneError } from '../../errors.js';
import type { ZoneStore } from '../state/store.js';
import { isRoot } from './options.js';

export interface ZoneDisk {
  image: string;
  mountpoint: string;
  /** The zone's root directory while mounted. */
  rootfs: string;
}

/** A copy-on-write zone without --disk gets a disk of this size (a sparse file: only what it writes takes space). */
export const DEFAULT_COW_DISK_BYTES = 2 * 1024 ** 3;

/** An overlay root: the host's copy-on-write, or an image store's layers; its upper layer on the zone's disk. */
function isCow(cfg: ZoneConfig): boolean {
  return (cfg.rootfs.type === 'host' && cfg.rootfs.copyOnWrite === true) || cfg.rootfs.type === 'store';
}

/** The disk's size: the cap, or a copy-on-write zone's default. */
function diskBytes(cfg: ZoneConfig): number | undefined {
  const bytes = cfg.resources?.diskBytes;
  if (bytes !== undefined && bytes !== 0) return bytes;
  return isCow(cfg) ? DEFAULT_COW_DISK_BYTES : undefined;
}

/**
 * Whether the zone's root is on a disk image, as root (a loop mount needs
 * it): an image zone with a disk cap (its root directory), or a
 * copy-on-write zone (its overlay's upper layer, which overlayfs wants on a
 * filesystem other than the host root it covers; `rootfs` is then the
 * directory holding upper/ and work/).
 */
export function zoneDisk(store: ZoneStore, cfg: ZoneConfig): ZoneDisk | undefined {
  if (!isRoot() || (cfg.rootfs.type !== 'image' && !isCow(cfg)) || diskBytes(cfg) === undefined) return undefined;
  const p = store.paths(cfg.name);
  return { image: p.diskImage, mountpoint: p.diskMount, rootfs: join(p.diskMount, isCow(cfg) ? 'cow' : 'rootfs') };
}

/** What a rootless image zone with a disk cap is told: the cap holds for its scratch space only. */
export function zoneDiskWarnings(cfg: ZoneConfig): string[] {
  const bytes = cfg.resources?.diskBytes;
  if (isRoot() || (cfg.rootfs.type !== 'image' && cfg.rootfs.type !== 'store') || bytes === undefined || bytes === 0) return [];
  return ['resources.diskBytes caps /tmp and /run only: the root of a rootless image zone (its writes and its volumes, in your state directory) is not on a disk image (a loop mount needs root) and is not capped'];
}

function isMounted(target: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === target);
}

/**
 * Creates the zone's disk on first use, grows it if the cap was raised, and
 * mounts it. Returns undefined for a zone without one. A smaller cap than
 * the disk is refused by growDiskImage (ext4 does not shrink in place).
 */
export async function mountZoneDisk(store: ZoneStore, cfg: ZoneConfig): Promise<ZoneDisk | undefined> {
  const disk = zoneDisk(store, cfg);
  if (!disk) return undefined;
  await ensureDiskImage(store, disk, diskBytes(cfg)!);
  // Still mounted from the zone's last run (its unmount failed at halt, e.g.
  // busy while the last run's processes ended) with a growth pending: no
  // zone runs from it now, so mount it afresh, grown. Still busy after a
  // while: it boots at its old size (the growth waits for a later boot).
  for (let i = 0; i < 20 && isMounted(disk.mountpoint) && (await diskNeedsGrowth(disk.image)); i++) {
    await unmountDiskImage(disk.mountpoint).catch(() => sleep(100));
  }
  if (!isMounted(disk.mountpoint)) await mountDiskImage(disk.image, disk.mountpoint);
  if (isCow(cfg)) mkdirSync(disk.rootfs, { recursive: true, mode: 0o700 });
  return disk;
}

/** Where the zones' disk templates are kept (src/zone/cgroups/disk-template.ts). */
export const diskTemplatesDir = (store: ZoneStore) => join(store.stateDir, 'disk-templates');

async function ensureDiskImage(store: ZoneStore, disk: ZoneDisk, bytes: number): Promise<void> {
  if (!(await createDiskImage(disk.image, bytes, { templatesDir: diskTemplatesDir(store) })) && statSync(disk.image).size !== bytes) await growDiskImage(disk.image, bytes);
}

/**
 * The zone's disk at create: an image zone's is mounted and returned (its
 * image is unpacked onto it); an overlay zone's (copy-on-write or image
 * store) is only made, since nothing goes onto it before boot, which makes
 * its upper layer's directory: a loop mount and unmount less per create.
 */
export async function createZoneDisk(store: ZoneStore, cfg: ZoneConfig): Promise<ZoneDisk | undefined> {
  if (!isCow(cfg)) return mountZoneDisk(store, cfg);
  const disk = zoneDisk(store, cfg);
  if (disk) await ensureDiskImage(store, disk, diskBytes(cfg)!);
  return undefined;
}

/** How `update --disk` took effect on the zone's disk. */
export type DiskGrowth =
  /** The mounted filesystem grew while the zone runs: `df` in the zone shows it now. */
  | 'online'
  /** The zone is not running: its disk image and filesystem grew now. */
  | 'offline'
  /** The image file grew, its mounted filesystem follows at the next boot (no CAP_SYS_RESOURCE). */
  | 'next-boot'
  /** Already that size. */
  | 'unchanged'
  /** The zone's disk image is not made yet: made at its next boot with the new size. */
  | 'not-yet'
  /** The zone's root is not on a disk image (host or directory root, or rootless): the size caps /tmp and /run. */
  | 'no-disk';

/**
 * `lxzone update --disk`: the zone's disk, if it has one yet, grows to the
 * new cap now (online when mounted). Where the online resize is not allowed
 * (no CAP_SYS_RESOURCE), the image has grown and its filesystem follows at
 * the next boot (mountDiskImage grows it before mounting): said, not an
 * error. A smaller size is refused by growDiskImage before anything changed.
 */
export async function growZoneDisk(store: ZoneStore, cfg: ZoneConfig): Promise<DiskGrowth> {
  const disk = zoneDisk(store, cfg);
  if (!disk) return 'no-disk';
  if (!existsSync(disk.image)) return 'not-yet';
  const want = cfg.resources!.diskBytes!;
  if (statSync(disk.image).size === want) return 'unchanged';
  const mounted = isMounted(disk.mountpoint);
  try {
    await growDiskImage(disk.image, want);
  } catch (e) {
    if ((e as LxzoneError).code !== 'EPERM') throw e;
    return 'next-boot';
  }
  return mounted ? 'online' : 'offline';
}

/** Unmounts the zone's disk if it is mounted (after the zone stopped, on destroy, after a failed boot). */
export async function unmountZoneDisk(store: ZoneStore, name: string): Promise<void> {
  const mountpoint = store.paths(name).diskMount;
  if (existsSync(mountpoint) && isMounted(mountpoint)) await unmountDiskImage(mountpoint);
}
