// Removing a zone's directory tree, including an unpacked rootfs.
import { chmodSync, lstatSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/**
 * rm -rf that also works as a non-root user on trees with read-only
 * directories (an unpacked image's /proc is 0555): on EACCES, directories
 * get u+rwx and the removal is retried. Never follows symlinks.
 */
export function removeTree(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
    return;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM') throw e;
  }
  const open = (p: string) => {
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (!st?.isDirectory()) return;
    chmodSync(p, (st.mode & 0o7777) | 0o700);
    for (const n of readdirSync(p)) open(join(p, n));
  };
  open(dir);
  rmSync(dir, { recursive: true, force: true });
}
