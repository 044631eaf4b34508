// A cross-process lock file. Created with O_EXCL ('wx') holding "pid starttime";
// a holder that died leaves the file behind, so a contender whose holder's pid
// no longer runs with the recorded start time (pid reuse) breaks it. Node has
// no flock(2); this is the state-file convention of the design (pid + start time).
import { promises as fs, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { LxzoneError } from '../../errors.js';

/** Start time of a process in clock ticks since boot (field 22 of /proc/PID/stat), or undefined if gone. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces and parentheses: split after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19]; // field 22 is the 20th after comm and state begin at field 3
  } catch {
    return undefined;
  }
}

const SELF = `${process.pid} ${processStartTime(process.pid)}`;

function holderAlive(content: string): boolean {
  const [pid, start] = content.trim().split(' ');
  const n = Number(pid);
  if (!Number.isInteger(n) || n <= 0) return false; // half-written or garbage: treat as stale
  return processStartTime(n) === start;
}

async function olderThan(path: string, ms: number): Promise<boolean> {
  try {
    return Date.now() - (await fs.stat(path)).mtimeMs > ms;
  } catch {
    return false;
  }
}

export interface LockOptions {
  timeoutMs?: number;
}

/** Run `fn` while holding `path` (a lock file). Waits up to timeoutMs (default 10 s) for another holder. */
export async function withLock<T>(path: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  let delay = 5;
  for (;;) {
    try {
      const fh = await fs.open(path, 'wx', 0o600);
      try {
        await fh.writeFile(SELF + '\n');
      } finally {
        await fh.close();
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let content = '';
    try {
      content = await fs.readFile(path, 'utf8');
    } catch {
      continue; // released between our open and read: try again at once
    }
    // An empty file is a holder between open and write: stale only once it is a second old.
    const stale = content !== '' ? !holderAlive(content) : await olderThan(path, 1000);
    if (stale) {
      // Break it by renaming (atomic): only one contender wins; a loser finds ENOENT and retries.
      const aside = `${path}.stale.${process.pid}`;
      try {
        await fs.rename(path, aside);
        const moved = await fs.readFile(aside, 'utf8');
        await fs.unlink(aside);
        if (moved !== content && holderAlive(moved)) {
          // We moved a fresh lock taken after our read: its holder still believes it holds it.
          // Put it back if nobody has taken the path since; otherwise give up loudly.
          await fs.writeFile(path, moved, { flag: 'wx' }).catch(() => {
            throw new LxzoneError(`lock ${path}: lost a race breaking a stale lock; retry`);
          });
        }
      } catch (err) {
        if (err instanceof LxzoneError) throw err;
      }
      continue;
    }
    if (Date.now() > deadline) {
      throw new LxzoneError(`lock ${path} is held by process ${content.trim().split(' ')[0] || '?'} (waited ${opts.timeoutMs ?? 10_000} ms)`, {
        code: 'EBUSY',
      });
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 100);
  }
  try {
    return await fn();
  } finally {
    await fs.unlink(path).catch(() => {});
  }
}
