// Atomic replacement of small state files: write a temp file in the same
// directory, fsync it, rename it over the target, fsync the directory. A
// reader sees the old file or the new one, never a mix; a crash or a full
// disk at any point leaves the old one in place (the temp file is removed on
// error, and a temp file left by a crash is ignored by readers and swept by
// sweepTempFiles).
import {
  closeSync,
  existsSync,
  constants,
  fsyncSync,
  linkSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { LxzoneError } from '../../errors.js';

export const TEMP_MARK = '.tmp-';

function fail(e: unknown, path: string, syscall: string): LxzoneError {
  const err = e as NodeJS.ErrnoException;
  const errno = typeof err.errno === 'number' ? Math.abs(err.errno) : undefined;
  const why =
    err.code === 'ENOSPC' || err.code === 'EDQUOT'
      ? 'no space left on the device (the previous version is kept)'
      : err.code === 'EEXIST'
        ? 'it already exists'
        : err.message;
  return new LxzoneError(`cannot write ${path}: ${why}`, { errno, code: err.code, syscall, where: path, cause: e });
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Replace `path` with `data` atomically (mode applies to a new file).
 * With `exclusive`, fail with EEXIST instead of replacing an existing file
 * (the temp file is link(2)ed into place: two creators cannot both win).
 * `durable: false` skips the fsyncs, for files that mean nothing after a
 * crash of the host (claims held by running processes): readers still see
 * the whole file or none. */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600, exclusive = false, durable = true): void {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}${TEMP_MARK}${process.pid}-${randomBytes(4).toString('hex')}`);
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let fd: number;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  } catch (e) {
    throw fail(e, path, 'open');
  }
  let step = 'write';
  try {
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    step = 'fsync';
    if (durable) fsyncSync(fd);
    closeSync(fd);
    fd = -1;
    if (exclusive) {
      step = 'link';
      linkSync(tmp, path);
      unlinkSync(tmp);
    } else {
      step = 'rename';
      renameSync(tmp, path);
    }
  } catch (e) {
    if (fd >= 0) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw fail(e, path, step);
  }
  // The rename is durable once the directory is; an error here changes nothing
  // readers see, so report it without undoing the rename.
  if (!durable) return;
  try {
    fsyncDir(dir);
  } catch (e) {
    throw fail(e, dir, 'fsync');
  }
}

/** Contents of a file, or undefined when it does not exist. */
export function readFileIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Remove temp files that writers which no longer exist left in `dir` (a
 * live writer's temp file is about to be renamed: leave it). */
export function sweepTempFiles(dir: string): number {
  let n = 0;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    const m = /\.tmp-([0-9]+)-[0-9a-f]+$/.exec(name);
    if (name.startsWith('.') && m && !existsSync(`/proc/${m[1]}`)) {
      try {
        unlinkSync(join(dir, name));
        n++;
      } catch {
        /* raced with another sweeper */
      }
    }
  }
  return n;
}
