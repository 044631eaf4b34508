// A pipe for a process lxzone starts (a zone's first process, an exec's
// stdio), from a FIFO made in a private directory and unlinked at once: Node
// has no pipe(2), and the addon's socketpairs are SOCK_SEQPACKET, which Node
// cannot stream. The FIFO is made by the addon's makeFifo (mkfifo(3)), so no
// process is spawned for it.
import { randomBytes } from 'node:crypto';
import { constants as fsc, mkdirSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { native } from '../native.js';

/**
 * [our end, the other process's end], each its own open file: ours
 * non-blocking (libuv's), theirs as programs expect. For 'in' (we write,
 * they read) our end is opened read-write so that opening it does not wait
 * for a reader; they see end of file once our end is closed. `dir` is made
 * (0700) if missing.
 */
export function fifoPipe(dir: string, direction: 'in' | 'out'): [number, number] {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, randomBytes(8).toString('hex'));
  native().makeFifo(path, 0o600);
  try {
    if (direction === 'out') {
      const ours = openSync(path, fsc.O_RDONLY | fsc.O_NONBLOCK);
      return [ours, openSync(path, fsc.O_WRONLY)];
    }
    const ours = openSync(path, fsc.O_RDWR | fsc.O_NONBLOCK);
    return [ours, openSync(path, fsc.O_RDONLY)];
  } finally {
    rmSync(path, { force: true });
  }
}
