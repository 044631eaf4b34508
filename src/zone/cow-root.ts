// A copy-on-write host root (native/shim/cow_root.cc): the host's root
// filesystem, id-mapped onto the zone's ids, as an overlay's lower layer.
// The zone's root then owns the host's root-owned files in its view, so it
// may write anywhere (copies go to its upper layer, never to the host) — and
// could read what only the host's root may read. What follows is hidden from
// such a zone: account secrets, host keys, users' homes and logs (lxzone's
// own state is hidden from every zone: hidden-paths.ts).
import { readdirSync } from 'node:fs';
import { LxzoneError } from '../errors.js';

export interface RootCow {
  /** Host directory (on a filesystem other than the host's root) holding upper/ and work/: kept. Absent: a tmpfs, gone with the zone. */
  dir?: string;
  /** Size of the tmpfs upper layer (no dir). */
  sizeBytes?: number;
  /**
   * An image's layers from the image store (host directories, lowest
   * first): the overlay's lower layers instead of the host's root.
   */
  layers?: string[];
}

export const DEFAULT_COW_TMPFS_BYTES = 1024 ** 3;

const SECRET_PATHS = ['/etc/shadow', '/etc/shadow-', '/etc/gshadow', '/etc/gshadow-', '/etc/ssl/private', '/home', '/var/log', '/var/lib/sudo', '/var/spool/cron'];

/** The zone paths a copy-on-write zone does not see (files read as empty, directories are empty). */
export function cowMasks(): string[] {
  const masks = [...SECRET_PATHS];
  try {
    for (const f of readdirSync('/etc/ssh')) if (/^ssh_host_.*_key$/.test(f)) masks.push(`/etc/ssh/${f}`);
  } catch {
    // no /etc/ssh on this host: nothing to hide there
  }
  return masks;
}

export function checkRootCow(opts: { rootfs?: string; rootCow?: RootCow }, rootless: boolean): void {
  if (!opts.rootCow) return;
  if (opts.rootfs !== undefined) throw new LxzoneError('--root cow is for the host\'s root; it excludes --rootfs', { exitCode: 2, code: 'EINVAL' });
  // Rootless, an image's layers are the caller's own store's (no id mapping needed); the host's root is not.
  if (rootless && !opts.rootCow.layers) throw new LxzoneError('--root cow needs root (an id-mapped overlay of the host\'s root)', { exitCode: 125, code: 'EPERM' });
}
