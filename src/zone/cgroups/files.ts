// Reading and writing cgroup control files, with errors that name the file
// and the value (the kernel's EINVAL/EBUSY alone says little).
import { promises as fs } from 'node:fs';
import { LxzoneError } from '../../errors.js';

export async function writeCg(file: string, value: string | number): Promise<void> {
  try {
    await fs.writeFile(file, String(value));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const hint = e.code === 'EBUSY' && /limit_in_bytes|memory\.max/.test(file) ? ' (usage is above the new cap)' : '';
    throw new LxzoneError(`cannot write ${JSON.stringify(String(value))} to ${file}: ${e.code ?? e.message}${hint}`, {
      errno: e.errno === undefined ? undefined : -e.errno,
      code: e.code,
      syscall: 'write',
      where: file,
      cause: err,
    });
  }
}

export async function readCg(file: string): Promise<string> {
  return (await fs.readFile(file, 'utf8')).trim();
}

/** A cgroup number: "max" (v2) and v1's "unlimited" page-rounded LONG_MAX read as null. */
export function parseLimit(text: string): number | null {
  if (text === 'max' || text === '-1') return null;
  const n = Number(text);
  return n >= 2 ** 62 ? null : n;
}

/** "key value" lines (memory.stat, cpu.stat, memory.events, memory.oom_control) as a map. */
export function parseKeyed(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined) m.set(k, Number(v));
  }
  return m;
}

export async function readPids(procsFile: string): Promise<number[]> {
  try {
    return (await readCg(procsFile)).split('\n').filter(Boolean).map(Number);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** rmdir that tolerates ENOENT and retries EBUSY briefly (tasks still exiting). */
export async function rmdirCg(dir: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await fs.rmdir(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || i >= 100) {
        throw new LxzoneError(`cannot remove cgroup ${dir}: ${code}`, { code, syscall: 'rmdir', where: dir, cause: err });
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
