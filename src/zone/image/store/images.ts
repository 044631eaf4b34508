// The image store: <state>/images/
//   blobs/sha256/<hex>        manifests, configs and layer blobs (blobs.ts)
//   layers/<hex>/             layers unpacked once, shared (layers.ts)
//   images/<hex>.json         one record per image, by manifest digest
//   refs.json                 reference -> manifest digest (tags, pins)
//   users/<hex>/<zone>        the zones created from an image: while one
//                             exists, the image cannot be removed
//   users/<hex>/@run-<pid>    a one-shot `run --image` while it runs (its
//                             process identity: a dead one counts no more)
//   users/<hex>/@create-<pid>-<rand>  a create between importing or finding
//                             its image file's image and claiming it
//                             (zone-import.ts; a process identity too)
//   pulls/<pid>-<rand>        a pull or import in progress and the digests
//                             it uses: prune keeps those blobs, partials,
//                             staged temp files and layers
//   sources/<hash>.json       an image file create imported and the image it
//                             gave (zone-import.ts); gone with the image
// Changes to refs.json and users/ happen under the store's lock. Nothing of
// an image is recorded before all of its blobs are in place and verified.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LxzoneError } from '../../../errors.js';
import { assertZoneName } from '../../config/validate.js';
import { writeFileAtomic } from '../../state/atomic.js';
import { acquireLock } from '../../state/lock.js';
import { isAlive, processIdentity, type ProcessIdentity } from '../../state/proc.js';
import { defaultPaths, ensurePrivateDir, type StorePaths } from '../../state/paths.js';
import { imageConfig, type ImageConfig } from '../manifests.js';
import { BlobStore } from './blobs.js';
import { LayerStore } from './layers.js';
import { DIGEST, formatImageRef, parseImageRef, shortImageRef } from './reference.js';

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

  private usersDir(digest: string): string {
    return join(this.dir, 'users', BlobStore.check(digest));
  }

  /**
   * Zones created from the image and one-shot runs of it ("run:<pid>");
   * stale entries (a zone that is gone, a run whose process is) are dropped.
   */
  users(digest: string): string[] {
    const dir = this.usersDir(digest);
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((entry) => {
        const live = entry.startsWith('@') ? liveRecord(join(dir, entry)) !== undefined : this.zoneUses(entry, digest);
        if (live) return true;
        rmSync(join(dir, entry), { force: true }); // the zone, run or create is gone: its use with it
        return false;
      })
      .map((entry) => {
        if (entry.startsWith(RUN_USER)) return `run:${entry.slice(RUN_USER.length)}`;
        if (entry.startsWith(CREATE_USER)) return `create:${entry.slice(CREATE_USER.length).split('-')[0]}`;
        return entry;
      })
      .sort();
  }

  /**
   * A one-shot `run --image` of this process uses the image until the
   * returned function is called (or the process dies). Taken under the
   * store's lock, after checking the image is still there: a prune between
   * resolving the image and starting the zone cannot take it away.
   */
  async useForRun(digest: string, what: string): Promise<() => void> {
    const file = join(this.usersDir(digest), `${RUN_USER}${process.pid}`);
    await this.locked('run', () => {
      const rec = this.record(digest);
      if (!rec || rec.layers.some((l) => !this.layers.has(l.digest))) {
        throw new LxzoneError(`${what}: removed from the image store while the zone was starting (lxzone image prune?); run it again`, { code: 'ENOENT' });
      }
      mkdirSync(this.usersDir(digest), { recursive: true, mode: 0o700 });
      writeFileSync(file, JSON.stringify(processIdentity()));
    });
    return () => rmSync(file, { force: true });
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
    const file = join(this.usersDir(digest), `${CREATE_USER}${process.pid}-${randomBytes(4).toString('hex')}`);
    mkdirSync(this.usersDir(digest), { recursive: true, mode: 0o700 });
    writeFileSync(file, JSON.stringify(processIdentity()));
    return () => rmSync(file, { force: true });
  }

  /**
   * A pull or import of this process is in progress until `done`: prune
   * keeps the blobs, partial downloads, staged temp files and layers it names
   * with `uses` (each change under the store's lock, so a prune runs wholly
   * before or after it). Name a digest with `uses` before its blob is placed:
   * a blob placed first could be collected before the image naming it is
   * recorded. `tag` names the operation's temp files (BlobStore.stage).
   */
  async operationStarted(kind: 'pull' | 'import'): Promise<StoreOperation> {
    const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
    const file = join(this.dir, 'pulls', tag);
    const digests: string[] = [];
    const write = () => writeFileSync(file, JSON.stringify({ ...processIdentity(), kind, digests }));
    await this.locked(kind, write);
    return {
      tag,
      uses: async (more) => {
        digests.push(...more.map((d) => BlobStore.check(d)));
        await this.locked(kind, write);
      },
      done: () => rmSync(file, { force: true }),
    };
  }

  pullStarted(): Promise<StoreOperation> {
    return this.operationStarted('pull');
  }

  /** Blob hexes that pulls and imports in progress use, and their tags (records of dead ones are dropped). */
  private inFlight(): { digests: Set<string>; tags: Set<string> } {
    const dir = join(this.dir, 'pulls');
    const digests = new Set<string>();
    const tags = new Set<string>();
    for (const f of readdirSync(dir)) {
      const rec = liveRecord(join(dir, f)) as { digests?: unknown } | undefined;
      if (!rec) {
        rmSync(join(dir, f), { force: true });
        continue;
      }
      tags.add(f);
      if (Array.isArray(rec.digests)) for (const d of rec.digests) if (typeof d === 'string') digests.add(d);
    }
    return { digests, tags };
  }

  /**
   * Whether zone `zone` still exists and is of this image: a zone destroyed
   * and made again under its name from another image uses this one no more.
   */
  private zoneUses(zone: string, digest: string): boolean {
    const file = join(this.stateDir, 'zones', zone, 'config.json');
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return false; // no config: the zone is gone
    }
    try {
      const rootfs = (JSON.parse(text) as { rootfs?: { type?: unknown; digest?: unknown } }).rootfs;
      return rootfs?.type === 'store' && rootfs.digest === digest;
    } catch {
      return true; // a config being rewritten or damaged: count the use, rmi can wait
    }
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
      mkdirSync(this.usersDir(digest), { recursive: true, mode: 0o700 });
      // Not synced (empty: only its name counts): a root zone's create syncs
      // its disk image next, which commits this entry with it. Lost in a
      // crash, rmi could remove the image of a zone, whose boot then says
      // to pull it again; one sync less per create.
      writeFileAtomic(join(this.usersDir(digest), zone), '', 0o600, false, false);
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
    if (untag.length === mine.length && users.length > 0 && !force) {
      const zones = users.filter((u) => !u.startsWith('run:') && !u.startsWith('create:'));
      const runs = users.filter((u) => u.startsWith('run:'));
      const creates = users.filter((u) => u.startsWith('create:'));
      const by = [
        ...(zones.length > 0 ? [`zone${zones.length > 1 ? 's' : ''} ${zones.join(', ')}`] : []),
        ...(runs.length > 0 ? [`running lxzone run${runs.length > 1 ? 's' : ''} (pid ${runs.map((r) => r.slice(4)).join(', ')})`] : []),
        ...(creates.length > 0 ? [`a zone being created (pid ${creates.map((r) => r.slice(7)).join(', ')})`] : []),
      ];
      const then = [
        ...(zones.length > 0 ? [`destroy ${zones.length > 1 ? 'them' : 'it'}`] : []),
        ...(runs.length > 0 ? ['wait for the run to end'] : []),
        ...(creates.length > 0 ? ['wait for the create to end'] : []),
      ];
      throw new LxzoneError(`image ${ref} is in use by ${by.join(' and ')} (${then.join(', ')} first)`, { code: 'EBUSY', where: ref });
    }
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
   * After a pull refused its image (a bad layer, config or manifest): the
   * whole blobs of `digests` go unless an image record or another pull or
   * import in progress names them; partial downloads stay (a cut download is
   * resumed, a bad one was discarded as it failed). Call under the lock,
   * after the pull's operation is done.
   */
  discard(digests: string[]): void {
    const keep = new Set<string>();
    for (const img of this.list()) for (const d of [img.digest, img.config, ...img.layers.map((l) => l.digest)]) keep.add(d);
    const live = this.inFlight().digests;
    for (const d of new Set(digests)) {
      if (keep.has(d) || live.has(d) || live.has(d.slice(7))) continue;
      rmSync(this.blobs.path(d), { force: true });
      this.layers.remove(d);
    }
  }

  /**
   * Blobs and layers that no image record names, and partial downloads
   * unless a pull is running (it may be writing one, or about to resume it).
   */
  private collect(): { blobs: number; bytes: number; keptPartial: number } {
    const keep = new Set<string>();
    for (const img of this.list()) for (const d of [img.digest, img.config, ...img.layers.map((l) => l.digest)]) keep.add(d.slice(7));
    const live = this.inFlight();
    let blobs = 0;
    let bytes = 0;
    let keptPartial = 0;
    for (const f of readdirSync(this.blobs.dir)) {
      const tag = BlobStore.tempTag(f);
      if (tag !== undefined) {
        // A file an import is staging: its operation's, until that is gone.
        if (!live.tags.has(tag)) rmSync(join(this.blobs.dir, f), { force: true });
        continue;
      }
      if (!/^[a-f0-9]{64}(\.partial)?$/.test(f)) continue; // not a blob: nothing of the store's
      const hex = f.replace(/\.partial$/, '');
      if (keep.has(hex) && !f.endsWith('.partial')) continue;
      if (live.digests.has(hex)) {
        if (f.endsWith('.partial')) keptPartial++;
        continue;
      }
      const p = join(this.blobs.dir, f);
      bytes += statSync(p, { throwIfNoEntry: false })?.size ?? 0;
      rmSync(p, { force: true, recursive: true });
      blobs++;
    }
    for (const f of readdirSync(this.layers.dir)) {
      if (/^[a-f0-9]{64}$/.test(f) && (keep.has(f) || live.digests.has(f))) continue;
      if (/^[a-f0-9]{64}$/.test(f)) this.layers.remove(`sha256:${f}`);
    }
    // The users of an image gone (their entries were dropped as stale when read).
    const users = join(this.dir, 'users');
    for (const f of readdirSync(users)) if (/^[a-f0-9]{64}$/.test(f) && !keep.has(f)) rmSync(join(users, f), { recursive: true, force: true });
    // What image files gave (zone-import.ts): a record of an image gone goes with it.
    const sources = join(this.dir, 'sources');
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
}

export interface StoreOperation {
  /** Names the operation's temp files in the store. */
  tag: string;
  uses(digests: string[]): Promise<void>;
  done(): void;
}

const RUN_USER = '@run-';
const CREATE_USER = '@create-';

/** A record of a process (pid, start time, boot id) if that process is still alive. */
function liveRecord(file: string): (ProcessIdentity & Record<string, unknown>) | undefined {
  try {
    const rec = JSON.parse(readFileSync(file, 'utf8')) as ProcessIdentity & Record<string, unknown>;
    return isAlive(rec) ? rec : undefined;
  } catch {
    return undefined; // unreadable or half-written: not a live process's
  }
}

