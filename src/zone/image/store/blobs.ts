// Blobs by digest: <images>/blobs/sha256/<hex>. A blob arrives in a temp
// file beside its final name, is hashed and sized while it is written, and
// is renamed into place only when both match what was asked for: a blob
// under its final name is always whole and verified. An interrupted download
// stays as <hex>.partial and is resumed (its bytes re-hashed first).
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { LxzoneError } from '../../../errors.js';
import { hashFile } from '../hash-file.js';
import { DIGEST } from './reference.js';

export class DigestError extends LxzoneError {
  constructor(what: string, message: string) {
    super(`${what}: ${message}`, { code: 'EINVAL', where: what });
  }
}

export interface Expected {
  digest: string;
  /** Exact size when known (a descriptor's); else only `maxBytes` bounds it. */
  size?: number;
  maxBytes?: number;
}


export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** A blob being written: feed it chunks, then commit (verify + rename) or abandon. */
export class BlobWriter {
  private readonly hash: Hash;
  private fd: number;
  written: number;

  constructor(
    private readonly blobs: BlobStore,
    readonly expected: Expected,
    readonly what: string,
    /** Resume the .partial file left by an earlier try. */
    resume: boolean,
  ) {
    const part = blobs.partialPath(expected.digest);
    this.hash = createHash('sha256');
    if (resume && existsSync(part)) {
      hashFile(part, this.hash);
      this.written = statSync(part).size;
      this.fd = openSync(part, 'a', 0o600);
    } else {
      this.written = 0;
      this.fd = openSync(part, 'w', 0o600);
    }
  }

  write(chunk: Uint8Array): void {
    this.written += chunk.length;
    const cap = this.expected.size ?? this.expected.maxBytes;
    if (cap !== undefined && this.written > cap) {
      this.abandon(true);
      throw new DigestError(this.what, `the registry sent more than the ${cap} bytes ${this.expected.size !== undefined ? 'the manifest gives' : 'allowed'}`);
    }
    this.hash.update(chunk);
    let off = 0;
    while (off < chunk.length) off += writeSync(this.fd, chunk, off);
  }

  /** Verify size and digest; on success the blob is in place. */
  commit(): string {
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = -1;
    const part = this.blobs.partialPath(this.expected.digest);
    const got = `sha256:${this.hash.digest('hex')}`;
    if (this.expected.size !== undefined && this.written !== this.expected.size) {
      rmSync(part, { force: true });
      throw new DigestError(this.what, `truncated: ${this.written} of ${this.expected.size} bytes`);
    }
    if (got !== this.expected.digest) {
      rmSync(part, { force: true });
      throw new DigestError(this.what, `content does not match its digest (got ${got})`);
    }
    const final = this.blobs.path(this.expected.digest);
    renameSync(part, final);
    return final;
  }

  /** Close; keep the partial file for a resume unless `discard`. */
  abandon(discard = false): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    if (discard) rmSync(this.blobs.partialPath(this.expected.digest), { force: true });
  }
}

const TEMP_PREFIX = '.stage-';

export interface StagedBlob {
  tmp: string;
  digest: string;
  size: number;
}

export class BlobStore {
  readonly dir: string;

  constructor(imagesDir: string) {
    this.dir = join(imagesDir, 'blobs', 'sha256');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  static check(digest: string): string {
    if (!DIGEST.test(digest)) throw new LxzoneError(`digest "${digest}" is not sha256:<64 hex digits>`, { code: 'EINVAL', where: digest });
    return digest.slice(7);
  }

  path(digest: string): string {
    return join(this.dir, BlobStore.check(digest));
  }

  partialPath(digest: string): string {
    return `${this.path(digest)}.partial`;
  }

  has(digest: string): boolean {
    return existsSync(this.path(digest));
  }

  size(digest: string): number {
    return statSync(this.path(digest)).size;
  }

  read(digest: string): Buffer {
    return readFileSync(this.path(digest));
  }

  writer(expected: Expected, what: string, resume = false): BlobWriter {
    return new BlobWriter(this, expected, what, resume);
  }

  /** Store bytes under their digest (a manifest or config made or fetched whole). */
  putBytes(data: Buffer, expected?: Expected, what = 'blob'): string {
    const digest = expected?.digest ?? sha256(data);
    if (this.has(digest)) return digest;
    const w = this.writer({ digest, ...(expected?.size !== undefined ? { size: expected.size } : {}) }, what);
    try {
      w.write(data);
      w.commit();
    } catch (e) {
      w.abandon(true);
      throw e;
    }
    return digest;
  }

  /**
   * Copy (or, when `own`, move: a temp file of ours on this filesystem) a
   * file into a temp file beside the blobs and hash the copy: what is hashed
   * is what gets placed, even if the caller's file changes meanwhile (a hard
   * link would let the file's owner change a verified blob). `tag` names the
   * store operation the temp file belongs to (ImageStore.operationStarted):
   * prune removes it once that operation is gone. Then `place` it.
   */
  stage(path: string, own: boolean, tag: string): StagedBlob {
    const tmp = join(this.dir, `${TEMP_PREFIX}${tag}-${randomBytes(4).toString('hex')}`);
    try {
      if (own) {
        try {
          renameSync(path, tmp);
        } catch {
          copyFileSync(path, tmp); // another filesystem: a copy
        }
      } else copyFileSync(path, tmp);
      return { tmp, digest: `sha256:${hashFile(tmp).digest('hex')}`, size: statSync(tmp).size };
    } catch (e) {
      rmSync(tmp, { force: true });
      throw e;
    }
  }

  /** A staged file under its digest (dropped if the blob is there already). */
  place(s: StagedBlob): void {
    try {
      if (!this.has(s.digest)) renameSync(s.tmp, this.path(s.digest));
    } finally {
      rmSync(s.tmp, { force: true });
    }
  }

  /** The operation tag of a temp file of `stage` (undefined for any other name). */
  static tempTag(name: string): string | undefined {
    if (!name.startsWith(TEMP_PREFIX)) return undefined;
    return name.slice(TEMP_PREFIX.length).replace(/-[a-f0-9]{8}$/, '');
  }

  remove(digest: string): void {
    rmSync(this.path(digest), { force: true });
    rmSync(this.partialPath(digest), { force: true });
  }
}
