// `lxzone pull`: reference -> manifest (through an index for this host's
// platform) -> config -> layers, each blob verified against its digest as it
// arrives (blobs.ts), layers downloaded a few at a time and resumed from
// their .partial file when an earlier pull was cut; then each layer is
// unpacked once into the shared layer store, and only then is the image
// recorded under its reference. A failure leaves no record and no ref: at
// most verified blobs (reused by the next pull) and partial files.
import { DIGEST, formatImageRef, type ImageRef } from '../store/reference.js';
import { LxzoneError } from '../../../errors.js';
import { imageConfig } from '../manifests.js';
import { sha256 } from '../store/blobs.js';
import type { ImageRecord, ImageStore } from '../store/images.js';
import { RepositoryClient, readCapped } from './client.js';
import {
  choosePlatform,
  DocumentError,
  INDEX_TYPES,
  isIndex,
  MANIFEST_TYPES,
  parseConfig,
  parseIndex,
  parseManifest,
  type Descriptor,
  type ManifestDoc,
} from './documents.js';

const MAX_MANIFEST = 4 << 20;
const MAX_CONFIG = 8 << 20;
const CONCURRENCY = 3;

export type LayerStatus = 'exists' | 'waiting' | 'downloading' | 'downloaded' | 'unpacking' | 'ready';
export type PullEvent =
  | { type: 'resolved'; ref: string; digest: string; layers: { digest: string; size: number }[] }
  | { type: 'layer'; digest: string; status: LayerStatus; done: number; total: number }
  | { type: 'warning'; message: string }
  | { type: 'done'; ref: string; digest: string };

export interface PullOptions {
  onEvent?: (e: PullEvent) => void;
  env?: NodeJS.ProcessEnv;
  /** Unpack layers into the shared layer store now (default: as root). */
  unpack?: boolean;
}

async function fetchDocument(c: RepositoryClient, ref: string, what: string, pinned?: string): Promise<{ body: Buffer; digest: string; contentType: string | null }> {
  const res = await c.get(`manifests/${ref}`, { accept: [...MANIFEST_TYPES, ...INDEX_TYPES] }, what);
  const body = await readCapped(res, MAX_MANIFEST, c, what);
  const digest = sha256(body);
  if (pinned !== undefined && digest !== pinned) throw c.fail(what, `content does not match its digest ${pinned} (got ${digest})`, 'EINVAL');
  const said = res.headers.get('docker-content-digest');
  if (said !== null && DIGEST.test(said) && said !== digest) throw c.fail(what, `the registry says its digest is ${said} but its content is ${digest}`, 'EINVAL');
  return { body, digest, contentType: res.headers.get('content-type') };
}

/** Download one blob into the store (resuming a partial one); verified before it is named. */
async function fetchBlob(store: ImageStore, c: RepositoryClient, d: Descriptor, what: string, progress: (done: number) => void): Promise<void> {
  if (store.blobs.has(d.digest)) return;
  for (let attempt = 0; ; attempt++) {
    const w = store.blobs.writer({ digest: d.digest, size: d.size }, `${c.name}: ${what} ${d.digest}`, true);
    try {
      if (w.written === d.size) {
        // The whole blob was there already (cut before its rename): nothing to ask for.
        w.commit();
        return;
      }
      const res = await c.get(`blobs/${d.digest}`, { from: w.written }, what);
      const start = Number(/^bytes (\d+)-/.exec(res.headers.get('content-range') ?? '')?.[1] ?? NaN);
      if (w.written > 0 && (res.status === 200 || start !== w.written)) {
        // The registry ignored the Range, or answered another one: start over.
        w.abandon(true);
        await res.body?.cancel();
        if (attempt > 0) throw c.fail(what, 'the registry does not honour ranges', 'EIO');
        continue;
      }
      if (w.written > 0) progress(w.written);
      if (res.body) {
        try {
          for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
            w.write(chunk);
            progress(w.written);
          }
        } catch (e) {
          if (e instanceof LxzoneError) throw e; // ours: too many bytes
          const cause = (e as { cause?: { code?: string; message?: string } }).cause;
          throw c.fail(what, `the download broke after ${w.written} of ${d.size} bytes (${cause?.code ?? cause?.message ?? (e as Error).message}); pull again to resume it`, 'EIO');
        }
      }
      w.commit();
      return;
    } catch (e) {
      // A download cut short is resumed by the next pull; one that never
      // started leaves nothing (a bad one was discarded already).
      w.abandon(w.written === 0);
      throw e;
    }
  }
}

async function inPool<T>(items: T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (failed === undefined && next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (e) {
        failed ??= e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  if (failed !== undefined) throw failed;
}

export async function pullImage(store: ImageStore, ref: ImageRef, opts: PullOptions = {}): Promise<ImageRecord> {
  const emit = opts.onEvent ?? (() => undefined);
  const c = new RepositoryClient(ref, opts.env);
  const canonical = formatImageRef(ref);
  const wrap = (e: unknown) => (e instanceof DocumentError ? c.fail('manifest', e.message, 'EINVAL') : e);
  const pull = await store.pullStarted();
  // The blobs this pull brought: a refused image's go again (store.discard).
  const brought: string[] = [];
  const fetchNew = async (d: Descriptor, what: string, progress: (done: number) => void) => {
    if (store.blobs.has(d.digest)) return;
    await fetchBlob(store, c, d, what, progress);
    brought.push(d.digest);
  };
  let refused = false;
  try {
    let doc = await fetchDocument(c, ref.digest ?? ref.tag ?? 'latest', `manifest ${ref.digest ?? ref.tag}`, ref.digest);
    let platform: Descriptor['platform'];
    if (isIndex(doc.body, doc.contentType)) {
      const index = parseIndex(doc.body, `index ${doc.digest}`);
      const chosen = choosePlatform(index, `index ${doc.digest}`);
      platform = chosen.platform;
      doc = await fetchDocument(c, chosen.digest, `manifest ${chosen.digest}`, chosen.digest);
      if (doc.body.length !== chosen.size) throw c.fail(`manifest ${chosen.digest}`, `${doc.body.length} bytes where the index says ${chosen.size}`, 'EINVAL');
    }
    const manifest: ManifestDoc = parseManifest(doc.body, `manifest ${doc.digest}`);
    if (manifest.config.size > MAX_CONFIG) throw c.fail('config', `${manifest.config.size} bytes, more than the ${MAX_CONFIG} allowed`, 'EFBIG');
    // From here the pull's blobs are its own: a prune meanwhile leaves them (and their partial files) alone.
    await pull.uses([doc.digest, manifest.config.digest, ...manifest.layers.map((l) => l.digest)]);
    emit({ type: 'resolved', ref: canonical, digest: doc.digest, layers: manifest.layers.map((l) => ({ digest: l.digest, size: l.size })) });

    await fetchNew(manifest.config, 'config', () => undefined);
    refused = true; // a config refused is the image's fault
    const cfgDoc = parseConfig(store.blobs.read(manifest.config.digest), `config ${manifest.config.digest}`);
    if (cfgDoc.os !== undefined && cfgDoc.os !== 'linux') throw c.fail('config', `the image is for ${cfgDoc.os}, not linux`, 'EINVAL');
    const diffIds = cfgDoc.rootfs?.diff_ids;
    if (diffIds !== undefined && diffIds.length !== manifest.layers.length) {
      throw c.fail('config', `names ${diffIds.length} layers where the manifest has ${manifest.layers.length}`, 'EINVAL');
    }

    refused = false;
    const unique = [...new Map(manifest.layers.map((l) => [l.digest, l])).values()];
    for (const l of unique) emit({ type: 'layer', digest: l.digest, status: store.blobs.has(l.digest) ? 'exists' : 'waiting', done: 0, total: l.size });
    await inPool(unique, CONCURRENCY, async (l) => {
      if (store.blobs.has(l.digest)) return;
      emit({ type: 'layer', digest: l.digest, status: 'downloading', done: 0, total: l.size });
      await fetchNew(l, 'layer', (done) => emit({ type: 'layer', digest: l.digest, status: 'downloading', done, total: l.size }));
      emit({ type: 'layer', digest: l.digest, status: 'downloaded', done: l.size, total: l.size });
    });
    if (!store.blobs.has(doc.digest)) {
      store.blobs.putBytes(doc.body, { digest: doc.digest }, `manifest ${doc.digest}`);
      brought.push(doc.digest);
    }

    if (opts.unpack ?? process.getuid?.() === 0) {
      refused = true; // from here a failure is the image's (its layers are all verified)
      manifest.layers.forEach((l, i) => {
        if (store.layers.has(l.digest)) return;
        emit({ type: 'layer', digest: l.digest, status: 'unpacking', done: l.size, total: l.size });
        const { warnings } = store.layers.unpack(l.digest, `${c.name}: layer ${i} (${l.digest})`);
        for (const message of warnings) emit({ type: 'warning', message: `layer ${i}: ${message}` });
        emit({ type: 'layer', digest: l.digest, status: 'ready', done: l.size, total: l.size });
      });
      refused = false;
    }

    const rec: ImageRecord = {
      digest: doc.digest,
      config: manifest.config.digest,
      layers: manifest.layers.map((l) => ({ digest: l.digest, size: l.size, mediaType: l.mediaType })),
      image: imageConfig(cfgDoc) ?? {},
      platform: { os: cfgDoc.os ?? platform?.os ?? 'linux', architecture: cfgDoc.architecture ?? platform?.architecture ?? '' },
      source: canonical,
      storedAt: new Date().toISOString(),
    };
    await store.locked('pull', () => store.addImage(rec, [canonical]));
    emit({ type: 'done', ref: canonical, digest: doc.digest });
    return rec;
  } catch (e) {
    // An image refused for what it is (a bad config; a layer that does not
    // unpack: truncated, a bomb) leaves none of the blobs it brought. A
    // download cut short keeps its partial file and the blobs verified so
    // far, for the next pull.
    refused ||= e instanceof DocumentError;
    throw wrap(e);
  } finally {
    pull.done();
    // Not discarded (the lock not had in time): the next prune takes them; the error said is the pull's.
    if (refused && brought.length > 0) await store.locked('pull', () => store.discard(brought)).catch(() => undefined);
  }
}
