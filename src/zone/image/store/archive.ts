// `lxzone image import` and `lxzone image save`: between the store and the
// archives lxzone already reads (a rootfs tar, a `docker save` archive, an
// OCI image-layout archive). An import goes through the same checks as a
// zone's image (unpack.ts: outer archive within the budget, metadata
// validated, paths confined, OCI blobs verified) and its layers through the
// same per-layer unpack as a pull. A save writes an OCI image layout.
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, linkSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { createReadStream } from 'node:fs';
import { Decompress } from 'fzstd';
import * as tar from 'tar';
import { LxzoneError } from '../../../errors.js';
import { removeTree } from '../../state/remove-tree.js';
import { imageLimitsFromEnv, UnpackBudget } from '../budget.js';
import { imageConfig, readDockerLayout, readOciLayout } from '../manifests.js';
import { describeError, detectImageFormat, extractOuter, type ImageFormat } from '../unpack.js';
import { sha256 } from './blobs.js';
import type { ImageRecord, ImageStore, LayerDescriptor } from './images.js';
import { hostPlatform } from '../registry/documents.js';
import { formatImageRef, parseImageRef, shortImageRef } from './reference.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';

function compression(path: string): 'gzip' | 'zstd' | 'none' {
  const fd = openSync(path, 'r');
  const b = Buffer.alloc(4);
  try {
    readSync(fd, b, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  if (b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  if (b.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

/** sha256 of the uncompressed tar: the layer's diff_id. */
async function diffId(path: string, kind: 'gzip' | 'zstd' | 'none'): Promise<string> {
  const h = createHash('sha256');
  if (kind === 'zstd') {
    const d = new Decompress((chunk) => h.update(chunk));
    for await (const chunk of createReadStream(path)) d.push(chunk as Buffer);
    d.push(new Uint8Array(0), true);
  } else {
    const src = kind === 'gzip' ? createReadStream(path).pipe(createGunzip()) : createReadStream(path);
    for await (const chunk of src) h.update(chunk as Buffer);
  }
  return `sha256:${h.digest('hex')}`;
}

const LAYER_TYPE = { gzip: 'application/vnd.oci.image.layer.v1.tar+gzip', zstd: 'application/vnd.oci.image.layer.v1.tar+zstd', none: 'application/vnd.oci.image.layer.v1.tar' };

export interface ImportOptions {
  /** The archive's format, if not to be detected from its top-level names (a zone config's rootfs.format). */
  format?: ImageFormat;
  /** Which image of an archive holding several: a docker RepoTag or an OCI ref name (a zone config's rootfs.ref). */
  select?: string;
  /** Hold the image for a create of this process from the moment it is
   * recorded (ImageStore.holdForCreateLocked, in the same locked call), so
   * no prune takes it before the zone claims it; the result's `release`
   * lets go. */
  holdForCreate?: boolean;
}

/**
 * Import `archive` (a file, or an OCI layout directory) into the store under
 * `ref` (default: the archive's own names). Nothing of it stays in the store
 * when it is refused: the blobs it placed go again unless another image or a
 * pull in progress names them.
 */
export async function importArchive(
  store: ImageStore,
  archive: string,
  ref?: string,
  opts: ImportOptions = {},
): Promise<{ record: ImageRecord; refs: string[]; warnings: string[]; release?: () => void }> {
  const fail = (msg: string, code = 'EINVAL', cause?: unknown) => new LxzoneError(`image ${archive}: ${msg}`, { code, where: archive, cause });
  let st;
  try {
    st = statSync(archive);
  } catch {
    throw fail('does not exist', 'ENOENT');
  }
  // A directory: an OCI image layout as it is (skopeo copy's oci:DIR, buildah push oci:DIR), read in place.
  const layoutDir = st.isDirectory();
  if (layoutDir && !(existsSync(join(archive, 'oci-layout')) && existsSync(join(archive, 'index.json')))) {
    throw fail('is a directory but not an OCI image layout (no oci-layout and index.json in it)');
  }
  if (!st.isFile() && !layoutDir) throw fail('is not a file');
  const canonical = ref !== undefined ? formatImageRef(parseImageRef(ref)) : undefined;
  const limits = imageLimitsFromEnv();
  const work = join(store.dir, `.import-${randomBytes(4).toString('hex')}`);
  const warnings: string[] = [];
  // From here until the image is recorded, a prune keeps what this import has
  // named (each digest named before its blob is placed, under the store's lock).
  const op = await store.operationStarted('import');
  // The blobs this import placed: discarded if it fails (unless something else names them).
  const placed: string[] = [];
  let ok = false;
  try {
    mkdirSync(work, { mode: 0o700 });
    let layerFiles: string[];
    let configRaw: Buffer | undefined;
    let found: string[] = [];
    const format = (() => {
      if (layoutDir) return 'oci-dir';
      if (opts.format !== undefined) return opts.format;
      try {
        return detectImageFormat(archive, new UnpackBudget(limits, st.size));
      } catch (e) {
        throw fail(describeError(e, work).message);
      }
    })();
    if (format === 'rootfs') {
      layerFiles = [archive];
    } else if (format === 'oci-dir') {
      try {
        // Every blob is checked against its digest, inside the directory (readOciLayout), and copied before use (stage).
        const layout = readOciLayout(archive, opts.select);
        layerFiles = layout.layers;
        found = layout.refs;
        configRaw = readFileSync(layout.configFile);
      } catch (e) {
        throw fail(describeError(e, archive).message, describeError(e, archive).code);
      }
    } else {
      const outer = join(work, 'archive');
      mkdirSync(outer, { mode: 0o700 });
      try {
        extractOuter(archive, outer, new UnpackBudget(limits, st.size));
        const layout = format === 'docker' ? readDockerLayout(outer, opts.select) : readOciLayout(outer, opts.select);
        layerFiles = layout.layers;
        found = layout.refs;
        configRaw = readFileSync(layout.configFile);
      } catch (e) {
        throw fail(describeError(e, outer).message, describeError(e, outer).code);
      }
    }
    const layers: LayerDescriptor[] = [];
    const diffIds: string[] = [];
    for (const f of layerFiles) {
      // The copy is hashed and placed: a caller's file changed meanwhile changes nothing stored.
      // Our own extracted copy is moved in; the caller's files (the archive, a layout directory's blobs) are copied.
      const staged = store.blobs.stage(f, f !== archive && !layoutDir, op.tag);
      try {
        const kind = compression(staged.tmp);
        diffIds.push(await diffId(staged.tmp, kind).catch((e: Error) => {
          throw fail(`layer ${layers.length}: corrupt ${kind} stream (${e.message})`);
        }));
        await op.uses([staged.digest]);
        store.blobs.place(staged);
        placed.push(staged.digest);
        layers.push({ digest: staged.digest, size: staged.size, mediaType: LAYER_TYPE[kind] });
      } finally {
        rmSync(staged.tmp, { force: true });
      }
    }
    let cfg: Record<string, unknown>;
    if (configRaw) {
      cfg = JSON.parse(configRaw.toString('utf8')) as Record<string, unknown>;
    } else {
      const p = hostPlatform();
      cfg = { architecture: p.architecture, os: p.os, rootfs: { type: 'layers', diff_ids: diffIds }, config: {} };
      configRaw = Buffer.from(JSON.stringify(cfg));
    }
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: sha256(configRaw), size: configRaw.length },
      layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    }));
    await op.uses([sha256(configRaw), sha256(manifest)]);
    const configDigest = store.blobs.putBytes(configRaw);
    const digest = store.blobs.putBytes(manifest);
    placed.push(configDigest, digest);
    // Unpacked before the image is recorded (rootless too, as the caller's
    // files): a layer that breaks the image rules refuses the import.
    layers.forEach((l, i) => {
      warnings.push(...store.layers.unpack(l.digest, `image ${archive}: layer ${i}`).warnings.map((w) => `layer ${i}: ${w}`));
    });
    // An OCI ref.name is often a bare tag ("v1") beside a full name
    // (io.containerd.image.name, which lxzone image save writes too): the
    // full name is the image's, the bare tag no name of its own.
    const full = found.filter((r) => /[:/@]/.test(r));
    if ((format === 'oci' || format === 'oci-dir') && full.length > 0) found = full;
    const refs = canonical !== undefined ? [canonical] : found.flatMap((r) => {
      try {
        return [formatImageRef(parseImageRef(r))];
      } catch {
        return []; // a ref name that is not a reference (an OCI "1.0" alone): not a name here
      }
    });
    const c = cfg as { os?: string; architecture?: string };
    const record: ImageRecord = {
      digest,
      config: configDigest,
      layers,
      image: imageConfig(cfg) ?? {},
      platform: { os: c.os ?? 'linux', architecture: c.architecture ?? '' },
      source: archive,
      storedAt: new Date().toISOString(),
    };
    const release = await store.locked('import', () => {
      store.addImage(record, refs);
      return opts.holdForCreate ? store.holdForCreateLocked(record.digest) : undefined;
    });
    ok = true;
    return { record, refs: refs.map(shortImageRef), warnings, ...(release ? { release } : {}) };
  } finally {
    op.done();
    removeTree(work);
    // The import's own error is what the caller hears; a discard that failed leaves blobs for the next prune.
    if (!ok && placed.length > 0) await store.locked('import', () => store.discard(placed)).catch(() => undefined);
  }
}

/** Write the image as an OCI image-layout tar at `out` (which must not exist). */
export function saveArchive(store: ImageStore, ref: string, out: string): void {
  const rec = store.get(ref);
  if (existsSync(out)) throw new LxzoneError(`${out} already exists`, { code: 'EEXIST', where: out });
  // Beside the blobs (hard links need the same filesystem); the tar is written to `out`.
  const work = join(store.dir, `.save-${randomBytes(4).toString('hex')}`);
  try {
    mkdirSync(join(work, 'blobs', 'sha256'), { recursive: true, mode: 0o700 });
    writeFileSync(join(work, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    const manifest = store.blobs.read(rec.digest);
    const names = Object.entries(store.refs()).filter(([, d]) => d === rec.digest).map(([r]) => r);
    const annotations: Record<string, string> = {};
    if (names[0] !== undefined) {
      annotations['io.containerd.image.name'] = names[0];
      annotations['org.opencontainers.image.ref.name'] = parseImageRef(names[0]).tag ?? 'latest';
    }
    const index = { schemaVersion: 2, manifests: [{ mediaType: OCI_MANIFEST, digest: rec.digest, size: manifest.length, annotations }] };
    writeFileSync(join(work, 'index.json'), JSON.stringify(index));
    for (const d of [rec.digest, rec.config, ...rec.layers.map((l) => l.digest)]) {
      const dest = join(work, 'blobs', 'sha256', d.slice(7));
      try {
        linkSync(store.blobs.path(d), dest);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    }
    tar.c({ file: out, cwd: work, sync: true, portable: true }, ['oci-layout', 'index.json', 'blobs']);
  } finally {
    removeTree(work);
  }
}
