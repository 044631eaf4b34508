// The store's garbage: blobs, layers, users/ directories and sources/
// records that no image record names any more, and what pulls and imports
// left behind. Everything here runs under the store's lock (rmi, prune, a
// refused pull or import), with the image records as they are then.
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BlobStore } from './blobs.js';
import type { ImageUsers } from './image-users.js';
import type { ImageRecord } from './images.js';
import type { LayerStore } from './layers.js';
import { inFlight } from './operations.js';

/** What collecting looks at: the store's directory and parts, and its image records now. */
export interface StoreParts {
  dir: string;
  blobs: BlobStore;
  layers: LayerStore;
  users: ImageUsers;
  images: ImageRecord[];
}

/** Every digest the image records name: manifests, configs, layers. */
function named(images: ImageRecord[]): string[] {
  return images.flatMap((img) => [img.digest, img.config, ...img.layers.map((l) => l.digest)]);
}

/**
 * After a pull refused its image (a bad layer, config or manifest): the
 * whole blobs of `digests` go unless an image record or another pull or
 * import in progress names them; partial downloads stay (a cut download is
 * resumed, a bad one was discarded as it failed).
 */
export function discardBlobs(s: StoreParts, digests: string[]): void {
  const keep = new Set(named(s.images));
  const live = inFlight(join(s.dir, 'pulls')).digests;
  for (const d of new Set(digests)) {
    if (keep.has(d) || live.has(d) || live.has(d.slice(7))) continue;
    rmSync(s.blobs.path(d), { force: true });
    s.layers.remove(d);
  }
}

/**
 * Blobs and layers that no image record names, and partial downloads
 * unless a pull is running (it may be writing one, or about to resume it).
 */
export function collectUnnamed(s: StoreParts): { blobs: number; bytes: number; keptPartial: number } {
  const keep = new Set(named(s.images).map((d) => d.slice(7)));
  const live = inFlight(join(s.dir, 'pulls'));
  let blobs = 0;
  let bytes = 0;
  let keptPartial = 0;
  for (const f of readdirSync(s.blobs.dir)) {
    const tag = BlobStore.tempTag(f);
    if (tag !== undefined) {
      // A file an import is staging: its operation's, until that is gone.
      if (!live.tags.has(tag)) rmSync(join(s.blobs.dir, f), { force: true });
      continue;
    }
    if (!/^[a-f0-9]{64}(\.partial)?$/.test(f)) continue; // not a blob: nothing of the store's
    const hex = f.replace(/\.partial$/, '');
    if (keep.has(hex) && !f.endsWith('.partial')) continue;
    if (live.digests.has(hex)) {
      if (f.endsWith('.partial')) keptPartial++;
      continue;
    }
    const p = join(s.blobs.dir, f);
    bytes += statSync(p, { throwIfNoEntry: false })?.size ?? 0;
    rmSync(p, { force: true, recursive: true });
    blobs++;
  }
  for (const f of readdirSync(s.layers.dir)) {
    if (/^[a-f0-9]{64}$/.test(f) && (keep.has(f) || live.digests.has(f))) continue;
    if (/^[a-f0-9]{64}$/.test(f)) s.layers.remove(`sha256:${f}`);
  }
  s.users.forgetImagesBut(keep);
  // What image files gave (zone-import.ts): a record of an image gone goes with it.
  const sources = join(s.dir, 'sources');
  for (const f of readdirSync(sources)) {
    if (!/^[a-f0-9]{64}\.json$/.test(f)) continue; // a record being written (its temp file)
    let digest: unknown;
    try {
      digest = (JSON.parse(readFileSync(join(sources, f), 'utf8')) as { digest?: unknown }).digest;
    } catch {
      digest = undefined; // unreadable or half-written: of no use
    }
    if (typeof digest !== 'string' || !keep.has(digest.slice(7))) rmSync(join(sources, f), { force: true });
  }
  return { blobs, bytes, keptPartial };
}
