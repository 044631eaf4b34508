// Layers unpacked once, shared read-only: <images>/layers/<blob hex>/ holds
// one layer's own files (never its lower layers'), its whiteouts written as
// overlayfs reads them, ready to be one lowerdir of every zone using it.
// Owners are kept as the image says (zone uid N is host uid N here): each
// zone sees the layers through an id-mapped mount onto its own id range
// (native/shim/cow_root.cc), so one copy serves zones of different ranges.
// The store is 0700 root's, so no host user reaches these files.
//
// A rootless user's store (under their own state directory, 0700 theirs)
// unpacks the same way with every file the user's (a rootless zone has one
// id, its root, which is the user) and opaque directories marked
// user.overlay.opaque: the shim mounts the overlay with `userxattr` inside
// the zone's user namespace, the layers read-only and never id-mapped.
//
// Every defence of a whole-image unpack holds per layer (layer.ts: names,
// symlinks, hardlinks, devices, setuid, budget); the layer is unpacked into
// a temp directory and renamed into place when whole, so a present layer
// directory is a complete one.
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readSync, renameSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Decompress } from 'fzstd';
import { LxzoneError } from '../../../errors.js';
import { removeTree } from '../../state/remove-tree.js';
import { imageLimitsFromEnv, UnpackBudget, type ImageLimits } from '../budget.js';
import { applyLayer } from '../layer.js';
import { applyModes, describeError } from '../unpack.js';
import { BlobStore } from './blobs.js';

const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
const RATIO_FLOOR = 256 * 2 ** 20;

function magic(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(4);
    readSync(fd, b, 0, 4, 0);
    return b;
  } finally {
    closeSync(fd);
  }
}

/**
 * zstd → a plain tar beside it (node-tar's zstd needs a newer Node's zlib).
 * The output is bounded like an unpack's footprint: a zstd bomb stops here.
 */
function unzstd(src: string, dest: string, limits: ImageLimits, what: string): void {
  const cap = Math.max(RATIO_FLOOR, limits.maxRatio * statSync(src).size);
  const out = openSync(dest, 'w', 0o600);
  let written = 0;
  try {
    const d = new Decompress((chunk) => {
      written += chunk.length;
      if (written > cap) {
        throw new LxzoneError(`${what}: expands to more than ${limits.maxRatio} times its size (a decompression bomb?; limit: LXZONE_IMAGE_MAX_RATIO)`, { code: 'EFBIG' });
      }
      let off = 0;
      while (off < chunk.length) off += writeSync(out, chunk, off);
    });
    const fd = openSync(src, 'r');
    try {
      const buf = Buffer.allocUnsafe(1 << 20);
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, null);
        if (n === 0) break;
        d.push(buf.subarray(0, n));
      }
      d.push(new Uint8Array(0), true);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    if (e instanceof LxzoneError) throw e;
    throw new LxzoneError(`${what}: corrupt zstd stream (${(e as Error).message})`, { code: 'EINVAL', cause: e });
  } finally {
    closeSync(out);
  }
}

export class LayerStore {
  readonly dir: string;

  constructor(
    imagesDir: string,
    private readonly blobs: BlobStore,
  ) {
    this.dir = join(imagesDir, 'layers');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  path(digest: string): string {
    return join(this.dir, BlobStore.check(digest));
  }

  has(digest: string): boolean {
    return existsSync(this.path(digest));
  }

  /**
   * Unpack the layer blob `digest` (plain, gzip or zstd tar) unless it is
   * already; returns the layer directory and the unpack's warnings.
   */
  unpack(digest: string, what: string, limits: ImageLimits = imageLimitsFromEnv()): { dir: string; warnings: string[] } {
    const dest = this.path(digest);
    if (existsSync(dest)) return { dir: dest, warnings: [] };
    const rootless = process.getuid?.() !== 0;
    const blob = this.blobs.path(digest);
    const work = join(this.dir, `.unpack-${randomBytes(4).toString('hex')}`);
    const root = join(work, 'root');
    mkdirSync(root, { recursive: true, mode: 0o700 });
    const warnings: string[] = [];
    try {
      let tarFile = blob;
      if (magic(blob).equals(ZSTD_MAGIC)) {
        tarFile = join(work, 'layer.tar');
        unzstd(blob, tarFile, limits, what);
      }
      const modes = new Map<string, { mode: number; dir: boolean }>();
      const budget = new UnpackBudget(limits, statSync(blob).size);
      try {
        applyLayer(tarFile, root, { idShift: rootless ? null : 0, keepSetid: false, warnings, modes, budget, whiteouts: rootless ? 'overlay-user' : 'overlay' });
      } catch (e) {
        const d = describeError(e, root);
        throw new LxzoneError(`${what}: ${d.message}`, { code: d.code, cause: e });
      }
      const rootMode = modes.get('')?.mode ?? 0o755;
      modes.delete('');
      applyModes(root, modes);
      renameSync(root, dest);
      chmodSync(dest, rootMode); // after the rename: moving a 0555 directory needs its write bit
      return { dir: dest, warnings };
    } finally {
      removeTree(work);
    }
  }

  remove(digest: string): void {
    const p = this.path(digest);
    if (!existsSync(p)) return;
    const aside = join(this.dir, `.remove-${randomBytes(4).toString('hex')}`);
    renameSync(p, aside);
    removeTree(aside);
  }
}
