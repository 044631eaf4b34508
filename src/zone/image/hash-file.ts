// One file fed to a hash in 1 MiB reads: shared by the image archive
// formats (manifests.ts) and the content-addressed store (store/blobs.ts).
import { createHash, type Hash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';

/** Feeds the whole file at `path` to `h` (a new sha256 by default) and returns it, not yet digested. */
export function hashFile(path: string, h: Hash = createHash('sha256')): Hash {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return h;
}
