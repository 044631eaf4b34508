// Per-zone lock between processes (two CLIs, a CLI and the daemon). Node has
// no flock(2) without a native call, so the lock is a file:
//   - taken by link(2)ing a complete temp file to <name>.lock: link fails with
//     EEXIST if the lock is held, and the holder's identity is in the file
//     from the moment it is visible (no empty-file window as with O_EXCL+write);
//   - the file names its holder by pid + start time + boot id, so a lock left
//     by a process that died (or whose pid was reused, or from before a reboot)
//     is recognised as stale and broken;
//   - breaking a stale lock happens under a mkdir(2) mutex (<name>.lock.break)
//     and re-checks the inode, so two waiters that both saw the same stale
//     lock cannot delete each other's fresh one;
//   - waiting is bounded: after timeoutMs the error says who holds it.
// Not reentrant: a second acquire from the same process waits like any other.
import { randomBytes } from 'node:crypto';
import {
  linkSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  rmdirSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LxzoneError } from '../../errors.js';
import { isAlive, processIdentity, type ProcessIdentity } from './proc.js';

export interface LockHolder extends ProcessIdentity {
  /** What the holder is doing ("boot", "destroy"…), for messages. */
  purpose?: string;
  acquiredAt: string;
}

export interface LockOptions {
  /** How long to wait for a held lock; 0 = fail at once. Default 10 s. */
  timeoutMs?: number;
  purpose?: string;
}

export interface ZoneLock {
  readonly name: string;
  readonly path: string;
  readonly holder: LockHolder;
  /** Give the lock back; a second call does nothing. */
  release(): void;
}

/** A break mutex older than this belongs to a breaker that died inside the
 * few syscalls it holds it for. */
const BREAK_STALE_MS = 10_000;

const held = new Set<{ path: string; ino: number }>();
let exitHook = false;
function releaseAllOnExit(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const h of held) {
      try {
        if (lstatSync(h.path).ino === h.ino) unlinkSync(h.path);
      } catch {
        /* already gone */
      }
    }
  });
}

/** Read the holder of a lock file; undefined if the file is gone, 'corrupt'
 * if it cannot be read as a holder (treated as stale: content is complete
 * when the file appears, so a bad one was not written by a live locker). */
export function readLockHolder(path: string): { holder?: LockHolder; ino: number } | undefined {
  let ino: number;
  let text: string;
  try {
    ino = lstatSync(path).ino;
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const h = JSON.parse(text) as LockHolder;
    if (Number.isInteger(h.pid) && Number.isInteger(h.startTime)) return { holder: h, ino };
  } catch {
    /* fall through */
  }
  return { ino };
}

function tryLink(path: string, content: string): boolean {
  const tmp = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  // The locks directory may not exist yet on a fresh runtime directory (after a host reboot).
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(tmp, content, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(tmp, path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    unlinkSync(tmp);
  }
}

/** Remove the lock file at `path` if it is still the inode judged stale.
 * False when another process is breaking it right now. */
function breakStale(path: string, staleIno: number): boolean {
  const mutex = `${path}.break`;
  try {
    mkdirSync(mutex, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    try {
      if (Date.now() - statSync(mutex).mtimeMs > BREAK_STALE_MS) rmdirSync(mutex);
    } catch {
      /* someone else cleaned it */
    }
    return false;
  }
  try {
    const now = lstatSync(path, { throwIfNoEntry: false });
    if (now && now.ino === staleIno) unlinkSync(path);
  } finally {
    rmdirSync(mutex);
  }
  return true;
}

/**
 * Take the lock file `path` for zone `name`, waiting up to timeoutMs.
 * Throws LxzoneError code EBUSY "zone NAME is busy (locked by pid N)".
 * The directory of `path` must exist.
 */
export async function acquireLock(path: string, name: string, opts: LockOptions = {}): Promise<ZoneLock> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  const me: LockHolder = { ...processIdentity(), acquiredAt: new Date().toISOString() };
  if (opts.purpose !== undefined) me.purpose = opts.purpose;
  const content = `${JSON.stringify(me)}\n`;
  let delay = 5;
  for (;;) {
    if (tryLink(path, content)) {
      const entry = { path, ino: lstatSync(path).ino };
      held.add(entry);
      releaseAllOnExit();
      let released = false;
      return {
        name,
        path,
        holder: me,
        release(): void {
          if (released) return;
          released = true;
          held.delete(entry);
          // Only remove our own file: if it was (wrongly) broken and retaken,
          // the new holder's file must stay.
          const cur = readLockHolder(path);
          if (cur && cur.ino === entry.ino) unlinkSync(path);
        },
      };
    }
    const cur = readLockHolder(path);
    if (cur === undefined) continue; // released between link and read: try again now
    if ((!cur.holder || !isAlive(cur.holder)) && breakStale(path, cur.ino)) continue;
    if (Date.now() >= deadline) {
      const pid = cur.holder ? `pid ${cur.holder.pid}` : 'an unreadable lock file';
      const what = cur.holder?.purpose ? ` for ${cur.holder.purpose}` : '';
      throw new LxzoneError(`zone ${name} is busy (locked by ${pid}${what})`, {
        code: 'EBUSY',
        where: path,
      });
    }
    await sleep(Math.min(delay, Math.max(1, deadline - Date.now())));
    delay = Math.min(delay * 2, 100);
  }
}
