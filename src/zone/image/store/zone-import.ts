// A zone whose image is a file or directory (`create --image FILE`, a zone
// config's rootfs {type: 'image'}: a rootfs tar, a `docker save` archive, an
// OCI layout archive or directory) is made from the image store like a
// pulled one: the file is imported as `lxzone image import` takes it (same
// checks, layers unpacked once, shared) and the zone records the stored
// image, so the file may go after create and a second zone of it costs
// what a second zone of a pulled image does.
//
// Naming: the image keeps the archive's own names (docker save's RepoTags,
// an OCI ref name; with rootfs.ref, the chosen image's); an image without
// one (a plain rootfs tar) has no reference: `lxzone images` lists it as
// <none> with its id, and the zone records it by that id (12 hex digits of
// its config digest, as `lxzone images` shows).
//
// The same file is not read again: sources/<sha256 of its path>.json keeps
// what the file was (device, inode, size, mtime, ctime) and the image it
// gave; a file still so, whose image is still stored, is that image. Any
// write to the file changes its ctime, which no user can set back.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import type { ImageFormatName } from '../../config/types.js';
import { writeFileAtomic } from '../../state/atomic.js';
import { importArchive } from './archive.js';
import type { ImageStore } from './images.js';

export interface ImportedZoneImage {
  rootfs: { type: 'store'; ref: string; digest: string };
  /** Whether this call recorded the image (a create that fails after it removes it again if it has no name). */
  added: boolean;
  warnings: string[];
  /** Ends the create's hold on the image (taken as it was recorded or found,
   * under the store's lock): call it once the zone has claimed the image, or
   * the create has failed. Until then no prune removes the image. */
  release: () => void;
}

interface SourceRecord {
  path: string;
  identity: string;
  format: string;
  select: string | null;
  digest: string;
  ref: string;
}

/** What changes when the file (or an OCI layout directory's index.json) does; undefined if there is none (the import says why). */
function identityOf(path: string): string | undefined {
  try {
    let st: BigIntStats = statSync(path, { bigint: true });
    if (st.isDirectory()) st = statSync(join(path, 'index.json'), { bigint: true });
    return [st.dev, st.ino, st.size, st.mtimeNs, st.ctimeNs].join(':');
  } catch {
    return undefined;
  }
}

function sourceFile(store: ImageStore, path: string): string {
  return join(store.dir, 'sources', `${createHash('sha256').update(path).digest('hex')}.json`);
}

/** The image a file gave before, if the file is unchanged and its image whole in the store. */
function known(store: ImageStore, src: { path: string; format: string; select: string | null }, identity: string | undefined): SourceRecord | undefined {
  const file = sourceFile(store, src.path);
  if (!existsSync(file)) return undefined;
  try {
    const rec = JSON.parse(readFileSync(file, 'utf8')) as SourceRecord;
    const image = store.record(rec.digest);
    if (
      rec.path === src.path && rec.format === src.format && rec.select === src.select && identity !== undefined && rec.identity === identity &&
      image !== undefined && image.layers.every((l) => store.blobs.has(l.digest))
    ) {
      return rec;
    }
  } catch {
    // Unreadable, or the file vanished under us: imported afresh (which says what is wrong with the file).
  }
  rmSync(file, { force: true });
  return undefined;
}

export async function importForZone(store: ImageStore, image: { path: string; format?: ImageFormatName; ref?: string }): Promise<ImportedZoneImage> {
  const src = { path: image.path, format: image.format ?? 'auto', select: image.ref ?? null };
  // Taken before the import: a file changed while it is read is read again next time.
  const identity = identityOf(src.path);
  // Found and held in one locked call: a prune runs wholly before (and the file is imported again) or after.
  const found = await store.locked('create', () => {
    const hit = known(store, src, identity);
    return hit ? { hit, release: store.holdForCreateLocked(hit.digest) } : undefined;
  });
  if (found) return { rootfs: { type: 'store', ref: found.hit.ref, digest: found.hit.digest }, added: false, warnings: [], release: found.release };
  const before = new Set(store.list().map((i) => i.digest));
  const r = await importArchive(store, src.path, undefined, {
    ...(src.format !== 'auto' ? { format: src.format } : {}),
    ...(src.select !== null ? { select: src.select } : {}),
    holdForCreate: true,
  });
  const release = r.release ?? (() => undefined);
  const ref = r.refs[0] ?? r.record.config.slice(7, 19);
  if (identity !== undefined) {
    const rec: SourceRecord = { ...src, identity, digest: r.record.digest, ref };
    writeFileAtomic(sourceFile(store, src.path), `${JSON.stringify(rec)}\n`, 0o600, false, false);
  }
  return { rootfs: { type: 'store', ref, digest: r.record.digest }, added: !before.has(r.record.digest), warnings: r.warnings, release };
}

/**
 * After a create that failed past the import: an image it recorded that
 * has no name and no zone goes again (as if the create had not been).
 */
export async function forgetImported(store: ImageStore, imported: ImportedZoneImage): Promise<void> {
  imported.release();
  if (!imported.added) return;
  await store.locked('create', () => {
    const img = store.list().find((i) => i.digest === imported.rootfs.digest);
    if (img && img.refs.length === 0 && img.users.length === 0) store.remove(img.digest);
  });
}
