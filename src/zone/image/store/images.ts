// The image store: <state>/images/
//   blobs/sha256/<hex>        manifests, configs and layer blobs (blobs.ts)
//   layers/<hex>/             layers unpacked once, shared (layers.ts)
//   images/<hex>.json         one record per image, by manifest digest
//   refs.json                 reference -> manifest digest (tags, pins)
//   users/<hex>/              who uses the image: zones created from it, a
//                             one-shot `run --image`, a create holding it
//                             (image-users.ts); while one does, the image
//                             cannot be removed
//   pulls/<pid>-<rand>        a pull or import in progress and the digests
//                             it uses (operations.ts): prune keeps those
//                             blobs, partials, staged temp files and layers
//   sources/<hash>.json       an image file create imported and the image it
//                             gave (zone-import.ts); gone with the image
// Changes to refs.json and users/ happen under the store's lock. Nothing of
// an image is recorded before all of its blobs are in place and verified.
// This file: the records and references, and the store's operations on
// them; what no record names any more is collected by collect.ts.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LxzoneError } from '../../../errors.js';
import { assertZoneName } from '../../config/validate.js';
import { writeFileAtomic } from '../../state/atomic.js';
import { acquireLock } from '../../state/lock.js';
import { defaultPaths, ensurePrivateDir, type StorePaths } from '../../state/paths.js';
import { imageConfig, type ImageConfig } from '../manifests.js';
import { BlobStore } from './blobs.js';
import { collectUnnamed, discardBlobs, type StoreParts } from './collect.js';
import { imageInUse, ImageUsers } from './image-users.js';
import { LayerStore } from './layers.js';
import { startOperation, type StoreOperation } from './operations.js';
import { DIGEST, formatImageRef, parseImageRef, shortImageRef } from './reference.js';

export type { StoreOperation } from './operations.js';

export interface LayerDescriptor {
  digest: string;
  size: number;
  mediaType: string;
}

export interface ImageRecord {
  /** Digest of the manifest: the image's identity in the store. */
  digest: string;
  /** Digest of the image config blob (Docker's "image id"). */
  config: string;
  layers: LayerDescriptor[];
  /** What the image declares for the process (Env, Cmd, …). */
  image: ImageConfig;
  platform?: { os?: string; architecture?: string };
  /** Where it came from: a registry reference or an archive. */
  source: string;
  storedAt: string;
}

export interface ImageSummary extends ImageRecord {
  refs: string[];
  /** Sum of the layer blobs (compressed). */
  size: number;
  users: string[];
}

export class ImageStore {
  readonly dir: string;
  readonly blobs: BlobStore;
  readonly layers: LayerStore;
  readonly runtimeDir: string;
  private readonly stateDir: string;
  private readonly userEntries: ImageUsers;

  constructor(paths: Partial<StorePaths> = {}) {
    const d = defaultPaths();
    this.stateDir = paths.stateDir ?? d.stateDir;
    this.runtimeDir = paths.runtimeDir ?? d.runtimeDir;
    ensurePrivateDir(this.stateDir);
    this.dir = join(this.stateDir, 'images');
    mkdirSync(join(this.dir, 'images'), { recursive: true, mode: 0o700 });
    mkdirSync(join(this.dir, 'users'), { recursive: true, mode: 0o700 });
    mkdirSync(join(this.dir, 'pulls'), { recursive: true, mode: 0o700 });
    mkdirSync(join(this.dir, 'sources'), { recursive: true, mode: 0o700 });
    this.blobs = new BlobStore(this.dir);
    this.layers = new LayerStore(this.dir, this.blobs);
    this.userEntries = new ImageUsers(join(this.dir, 'users'), this.stateDir);
  }

  /** Run `fn` holding the store's lock (refs and users change under it). */
  async locked<T>(purpose: string, fn: () => T | Promise<T>): Promise<T> {
    ensurePrivateDir(this.runtimeDir);
    mkdirSync(join(this.runtimeDir, 'locks'), { recursive: true, mode: 0o700 });
    const l = await acquireLock(join(this.runtimeDir, 'locks', 'image-store.lock'), 'image-store', { purpose, timeoutMs: 60_000 });
    try {
      return await fn();
    } finally {
      l.release();
    }
  }

  private recordFile(digest: string): string {
    return join(this.dir, 'images', `${BlobStore.check(digest)}.json`);
  }

  refs(): Record<string, string> {
    const f = join(this.dir, 'refs.json');
    if (!existsSync(f)) return {};
    try {
      return JSON.parse(readFileSync(f, 'utf8')) as Record<string, string>;
    } catch (e) {
      throw new LxzoneError(`image store ${f}: not valid JSON: ${(e as Error).message}`, { code: 'EINVAL', where: f });
    }
  }

  private writeRefs(refs: Record<string, string>): void {
    writeFileAtomic(join(this.dir, 'refs.json'), `${JSON.stringify(refs, null, 2)}\n`);
  }

  record(digest: string): ImageRecord | undefined {
    const f = this.recordFile(digest);
    if (!existsSync(f)) return undefined;
    const rec = JSON.parse(readFileSync(f, 'utf8')) as ImageRecord;
    // What the image declares is read from its config blob each time, so a
    // record made before lxzone knew a setting (ExposedPorts, Volumes) has it.
    try {
      rec.image = imageConfig(JSON.parse(this.blobs.read(rec.config).toString('utf8'))) ?? {};
    } catch {
      // No readable config blob (a store damaged by hand): the recorded settings stand.
    }
    return rec;
  }

  /** Record an image whose blobs are all in place, and point `refs` at it. Call under the lock. */
  addImage(rec: ImageRecord, refs: string[]): void {
    for (const b of [rec.digest, rec.config, ...rec.layers.map((l) => l.digest)]) {
      if (!this.blobs.has(b)) throw new LxzoneError(`image ${rec.digest}: blob ${b} is missing from the store`, { code: 'ENOENT' });
    }
    if (!existsSync(this.recordFile(rec.digest))) writeFileAtomic(this.recordFile(rec.digest), `${JSON.stringify(rec, null, 2)}\n`);
    if (refs.length === 0) return; // an image without a name (an image file's: zone-import.ts)
    const all = this.refs();
    for (const r of refs) all[r] = rec.digest;
    this.writeRefs(all);
  }

  /**
   * The image a user's reference names: a reference (short or canonical), a
   * manifest digest, or a unique prefix of an image's id or digest.
   */
  resolve(ref: string): ImageRecord | undefined {
    const refs = this.refs();
    if (refs[ref] !== undefined) return this.record(refs[ref] as string);
    if (DIGEST.test(ref)) return this.record(ref);
    let canonical: string | undefined;
    try {
      canonical = formatImageRef(parseImageRef(ref));
    } catch {
      canonical = undefined; // not a reference: perhaps an id prefix
    }
    if (canonical !== undefined && refs[canonical] !== undefined) return this.record(refs[canonical] as string);
    if (/^(sha256:)?[a-f0-9]{6,64}$/.test(ref)) {
      const hex = ref.replace(/^sha256:/, '');
      const hits = this.list().filter((i) => i.digest.slice(7).startsWith(hex) || i.config.slice(7).startsWith(hex));
      if (hits.length > 1) throw new LxzoneError(`image id "${ref}" is ambiguous (${hits.length} images)`, { code: 'EINVAL', exitCode: 2 });
      return hits[0];
    }
    return undefined;
  }

  /** Like resolve, an error naming the reference when there is no such image. */
  get(ref: string): ImageRecord {
    const rec = this.resolve(ref);
    if (!rec) throw new LxzoneError(`image ${ref}: not in the image store (lxzone pull ${ref}, or lxzone image import)`, { code: 'ENOENT', where: ref });
    return rec;
  }

  /**
   * Zones created from the image, one-shot runs of it ("run:<pid>") and
   * creates holding it ("create:<pid>"); stale entries are dropped.
   */
  users(digest: string): string[] {
    return this.userEntries.list(digest);
  }

  /**
   * A one-shot `run --image` of this process uses the image until the
   * returned function is called (or the process dies). Taken under the
   * store's lock, after checking the image is still there: a prune between
   * resolving the image and starting the zone cannot take it away.
   */
  async useForRun(digest: string, what: string): Promise<() => void> {
    return this.locked('run', () => {
      const rec = this.record(digest);
      if (!rec || rec.layers.some((l) => !this.layers.has(l.digest))) {
        throw new LxzoneError(`${what}: removed from the image store while the zone was starting (lxzone image prune?); run it again`, { code: 'ENOENT' });
      }
      return this.userEntries.addRun(digest);
    });
  }

  /**
   * A create of this process holds the image until the returned function is
   * called (or the process dies), so that prune cannot take it before the
   * zone claims it (claimForZone). Call under the store's lock, in the same
   * locked call that recorded or found the image: an unnamed image is never
   * prunable in between. Each hold is its own entry (a daemon creates zones
   * side by side).
   */
  holdForCreateLocked(digest: string): () => void {
    return this.userEntries.addCreate(digest);
  }

  /**
   * A pull or import of this process is in progress until `done`: prune
   * keeps the blobs, partial downloads, staged temp files and layers it names
   * with `uses` (each change under the store's lock, so a prune runs wholly
   * before or after it). Name a digest with `uses` before its blob is placed:
   * a blob placed first could be collected before the image naming it is
   * recorded. `tag` names the operation's temp files (BlobStore.stage).
   */
  operationStarted(kind: 'pull' | 'import'): Promise<StoreOperation> {
    return startOperation(join(this.dir, 'pulls'), (purpose, fn) => this.locked(purpose, fn), kind);
  }

  pullStarted(): Promise<StoreOperation> {
    return this.operationStarted('pull');
  }

  /**
   * Zone `zone` (its config already saved) uses the image from now on.
   * Checked and recorded under the store's lock, as rmi and prune check users
   * under it: either the image is removed first and this fails (the create
   * fails, leaving nothing), or the zone is recorded first and rmi refuses
   * with the zone named. Layers missing from the store are unpacked here too,
   * so a prune cannot take one between its unpack and the zone's use.
   */
  async claimForZone(digest: string, zone: string, what: string): Promise<ImageRecord> {
    assertZoneName(zone);
    return this.locked('create', () => {
      const rec = this.record(digest);
      if (!rec) throw new LxzoneError(`${what} (${digest}) is not in the image store any more (removed while the zone was being created?): pull it again`, { code: 'ENOENT', where: 'rootfs.digest' });
      rec.layers.forEach((l, i) => this.layers.unpack(l.digest, `${what}: layer ${i}`));
      this.userEntries.addZone(digest, zone);
      return rec;
    });
  }

  list(): ImageSummary[] {
    const refs = this.refs();
    const byDigest = new Map<string, string[]>();
    for (const [r, d] of Object.entries(refs)) byDigest.set(d, [...(byDigest.get(d) ?? []), shortImageRef(r)]);
    return readdirSync(join(this.dir, 'images'))
      .filter((f) => /^[a-f0-9]{64}\.json$/.test(f))
      .map((f) => this.record(`sha256:${f.slice(0, 64)}`) as ImageRecord)
      .map((rec) => ({
        ...rec,
        refs: (byDigest.get(rec.digest) ?? []).sort(),
        size: rec.layers.reduce((n, l) => n + l.size, 0),
        users: this.users(rec.digest),
      }))
      .sort((a, b) => (a.storedAt < b.storedAt ? 1 : -1));
  }

  /**
   * Untag `ref`; when no reference is left and no zone uses the image, its
   * record goes too (blobs and layers go at prune, or here when unshared).
   * Call under the lock. Returns what was removed.
   */
  remove(ref: string, force = false): { untagged: string[]; deleted?: string } {
    const rec = this.get(ref);
    const refs = this.refs();
    const mine = Object.keys(refs).filter((r) => refs[r] === rec.digest);
    const users = this.users(rec.digest);
    // A reference given by name removes that name only; by id, every name.
    const named = mine.filter((r) => r === ref || shortImageRef(r) === ref || (() => {
      try {
        return formatImageRef(parseImageRef(ref)) === r;
      } catch {
        return false;
      }
    })());
    const untag = named.length > 0 && mine.length > 1 ? named : mine;
    if (untag.length === mine.length && users.length > 0 && !force) throw imageInUse(ref, users);
    for (const r of untag) delete refs[r];
    this.writeRefs(refs);
    if (untag.length < mine.length || users.length > 0) return { untagged: untag.map(shortImageRef) };
    rmSync(this.recordFile(rec.digest), { force: true });
    this.collect();
    return { untagged: untag.map(shortImageRef), deleted: rec.digest };
  }

  /**
   * Remove images with no reference and no user (with `all`, every image no
   * zone uses, its references with it: docker image prune -a), then every
   * blob and layer no remaining image names. Call under the lock. Returns
   * what went, and bytes freed (blobs).
   */
  prune(all = false): { images: string[]; untagged: string[]; blobs: number; bytes: number; keptPartial: number } {
    const refs = this.refs();
    const named = new Set(Object.values(refs));
    const images: string[] = [];
    const untagged: string[] = [];
    for (const img of this.list()) {
      if ((named.has(img.digest) && !all) || img.users.length > 0) continue;
      for (const [r, d] of Object.entries(refs)) {
        if (d !== img.digest) continue;
        delete refs[r];
        untagged.push(shortImageRef(r));
      }
      images.push(img.digest);
    }
    // References first: a crash between leaves an unnamed record (the next prune's), never a name of nothing.
    if (untagged.length > 0) this.writeRefs(refs);
    for (const d of images) rmSync(this.recordFile(d), { force: true });
    return { images, untagged, ...this.collect() };
  }

  /**
   * After a pull refused its image (a bad layer, config or manifest): its
   * blobs that nothing else names go (collect.ts). Call under the lock,
   * after the pull's operation is done.
   */
  discard(digests: string[]): void {
    discardBlobs(this.parts(), digests);
  }

  /** Blobs, layers and the rest that no image record names (collect.ts). */
  private collect(): { blobs: number; bytes: number; keptPartial: number } {
    return collectUnnamed(this.parts());
  }

  private parts(): StoreParts {
    return { dir: this.dir, blobs: this.blobs, layers: this.layers, users: this.userEntries, images: this.list() };
  }
}
