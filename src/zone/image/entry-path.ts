// Paths of archive members, checked before anything is written. A rootfs
// archive names files relative to the zone's root; an absolute name, a '..'
// component or a NUL has no honest use there and is refused, naming the entry.
// (Symlink *targets* are another matter: see layer.ts.)
import { lstatSync, mkdirSync, lchownSync } from 'node:fs';
import { join } from 'node:path';

export class EntryError extends Error {
  constructor(
    readonly entry: string,
    readonly reason: string,
    /** The error code the image's refusal carries (EFBIG: over its budget). */
    readonly code: string = 'EINVAL',
  ) {
    super(`entry ${JSON.stringify(entry)}: ${reason}`);
    this.name = 'EntryError';
  }
}

/** "./usr//bin/" -> "usr/bin"; "" or "." or "./" -> "" (the root itself). */
export function entryRelPath(p: string): string {
  if (p.includes('\0')) throw new EntryError(p, 'contains a NUL character');
  if (p.startsWith('/')) throw new EntryError(p, 'is an absolute path');
  const parts = p.split('/').filter((x) => x !== '' && x !== '.');
  if (parts.includes('..')) throw new EntryError(p, "contains a '..' component (path traversal)");
  return parts.join('/');
}

export interface Owner {
  uid: number;
  gid: number;
}

/**
 * Make sure every parent directory of `rel` inside `root` is a real
 * directory: missing ones are created (owned by `owner` when given), and a
 * symlink or a non-directory on the way is an error. After this, nothing
 * written at join(root, rel) can land outside `root`.
 * Returns false (and creates nothing) if `create` is false and a parent is missing.
 */
export function ensureRealParents(root: string, rel: string, entry: string, owner?: Owner, create = true): boolean {
  const parts = rel.split('/').slice(0, -1);
  let cur = root;
  for (const part of parts) {
    cur = join(cur, part);
    const st = lstatSync(cur, { throwIfNoEntry: false });
    if (!st) {
      if (!create) return false;
      mkdirSync(cur, { mode: 0o755 });
      if (owner) lchownSync(cur, owner.uid, owner.gid);
      continue;
    }
    if (st.isSymbolicLink()) {
      throw new EntryError(entry, `would be written through the symbolic link ${cur.slice(root.length + 1)}`);
    }
    if (!st.isDirectory()) throw new EntryError(entry, `${cur.slice(root.length + 1)} is not a directory`);
  }
  return true;
}
