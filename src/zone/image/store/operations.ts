// Pulls and imports in progress: pulls/<pid>-<rand>, a live record of the
// process with the digests it uses, so that prune (collect.ts) keeps those
// blobs, partial downloads, staged temp files and layers.
import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BlobStore } from './blobs.js';
import { liveRecord, writeLiveRecord } from './live-record.js';

export interface StoreOperation {
  /** Names the operation's temp files in the store. */
  tag: string;
  uses(digests: string[]): Promise<void>;
  done(): void;
}

/** Runs `fn` under the store's lock (ImageStore.locked). */
type Locked = <T>(purpose: string, fn: () => T | Promise<T>) => Promise<T>;

/** An operation of this process recorded in `pullsDir`, each change under the store's lock. */
export async function startOperation(pullsDir: string, locked: Locked, kind: 'pull' | 'import'): Promise<StoreOperation> {
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const file = join(pullsDir, tag);
  const digests: string[] = [];
  const write = () => writeLiveRecord(file, { kind, digests });
  await locked(kind, write);
  return {
    tag,
    uses: async (more) => {
      digests.push(...more.map((d) => BlobStore.check(d)));
      await locked(kind, write);
    },
    done: () => rmSync(file, { force: true }),
  };
}

/** Blob hexes that pulls and imports in progress use, and their tags (records of dead ones are dropped). */
export function inFlight(pullsDir: string): { digests: Set<string>; tags: Set<string> } {
  const digests = new Set<string>();
  const tags = new Set<string>();
  for (const f of readdirSync(pullsDir)) {
    const rec = liveRecord(join(pullsDir, f)) as { digests?: unknown } | undefined;
    if (!rec) {
      rmSync(join(pullsDir, f), { force: true });
      continue;
    }
    tags.add(f);
    if (Array.isArray(rec.digests)) for (const d of rec.digests) if (typeof d === 'string') digests.add(d);
  }
  return { digests, tags };
}
