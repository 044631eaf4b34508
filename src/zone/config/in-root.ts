// Path resolution confined to a root directory, the way the kernel resolves
// a path for a process chrooted there (openat2's RESOLVE_IN_ROOT, which Node
// cannot call): '..' stops at the root and absolute symlinks start again from
// the root. Used to read files of a zone's rootfs (its /etc/passwd) from the
// host without letting a symlink in the image point the host at its own files.
//
// Not race-free against a process changing the tree concurrently; callers use
// it on a rootfs no zone is running on, or accept that the zone can only make
// the host read one of the zone's own files.
import { lstatSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { LxzoneError } from '../../errors.js';

const MAX_LINKS = 40; // the kernel's MAXSYMLINKS

/** Host path of `path` as seen from inside `root`. The final component is
 * followed too when it is a symlink. Throws ENOENT (code) when missing. */
export function resolveInRoot(root: string, path: string): string {
  const remaining = path.split('/').filter((p) => p !== '' && p !== '.');
  const done: string[] = [];
  let links = 0;
  while (remaining.length > 0) {
    const part = remaining.shift() as string;
    if (part === '..') {
      done.pop();
      continue;
    }
    const host = join(root, ...done, part);
    const st = lstatSync(host, { throwIfNoEntry: false });
    if (!st) {
      const e = new LxzoneError(`${path}: ${host} does not exist`, { code: 'ENOENT' });
      throw e;
    }
    if (st.isSymbolicLink()) {
      if (++links > MAX_LINKS) throw new LxzoneError(`${path}: too many levels of symbolic links`, { code: 'ELOOP' });
      const target = readlinkSync(host);
      if (target.startsWith('/')) done.length = 0;
      remaining.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
      continue;
    }
    done.push(part);
  }
  return join(root, ...done);
}
