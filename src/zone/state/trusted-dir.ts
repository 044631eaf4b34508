// Is a directory ours alone? lxzone keeps its state, its locks and its
// daemon's socket in directories that, for an unprivileged user without
// XDG_RUNTIME_DIR, sit under the shared /tmp (`/tmp/lxzone-UID`). Another
// user can make that name first, or make anything above a path writable to
// them, and then serve the victim's CLI as a fake daemon or swap its files
// (issue 14.12). So before use: the directory is a real directory owned by
// us with no access for group or others, and every directory above it
// belongs to us or root and is writable by nobody else unless sticky (as
// /tmp is: there, others cannot rename or remove what is ours).
import { chmodSync, existsSync, lstatSync, mkdirSync, realpathSync, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { LxzoneError } from '../../errors.js';

const S_ISVTX = 0o1000;

function refuse(dir: string, why: string, code = 'EPERM'): never {
  throw new LxzoneError(`${dir} ${why}; refusing to use it for lxzone's state (another user could control it)`, {
    code,
    where: dir,
  });
}

function myUid(): number {
  return process.getuid?.() ?? 0;
}

/** Every directory above `dir` (resolved) is owned by us or root and writable by no one else unless sticky. */
export function assertTrustedAncestors(dir: string, uid = myUid()): void {
  // From the nearest one that exists (the rest we are about to make).
  let p = dirname(dir);
  while (p !== '/' && !existsSync(p)) p = dirname(p);
  p = realpathSync(p);
  for (;;) {
    const st = statSync(p);
    if (st.uid !== uid && st.uid !== 0) refuse(p, `is owned by uid ${st.uid}`);
    if ((st.mode & 0o022) !== 0 && (st.mode & S_ISVTX) === 0) refuse(p, `is writable by group or others (mode ${(st.mode & 0o7777).toString(8)}) and not sticky`);
    if (p === '/') return;
    p = dirname(p);
  }
}

/** `st` (an lstat) is a real directory of ours that no one else may enter or change. */
function checkOwnDir(dir: string, st: Stats, uid: number): void {
  if (!st.isDirectory()) refuse(dir, 'is not a directory (a symlink?)', 'ENOTDIR');
  if (st.uid !== uid) refuse(dir, `is owned by uid ${st.uid}, not by us (uid ${uid})`);
  // Writable by others: something may have been planted in it already.
  if ((st.mode & 0o022) !== 0) refuse(dir, `is writable by group or others (mode ${(st.mode & 0o7777).toString(8)})`);
}

/**
 * Create `dir` (and parents) 0700 if missing, and make sure it is ours alone:
 * a real directory owned by us, writable by no one else, under directories
 * no one else can change. Read access for others is taken away (zone
 * configs hold environment secrets).
 */
export function ensurePrivateDir(dir: string): void {
  const uid = myUid();
  assertTrustedAncestors(dir, uid);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  checkOwnDir(dir, st, uid);
  if ((st.mode & 0o077) !== 0) chmodSync(dir, st.mode & 0o700);
}

/** A unix socket file we are about to connect to is one of ours (the peer's credentials are checked after). */
export function assertOwnSocket(path: string): void {
  const uid = myUid();
  let st: Stats;
  try {
    st = lstatSync(path);
  } catch {
    return; // absent: connecting fails and says so
  }
  if (!st.isSocket()) refuse(path, 'is not a socket', 'ENOTSOCK');
  if (st.uid !== uid) refuse(path, `is owned by uid ${st.uid}, not by us (uid ${uid})`);
}
