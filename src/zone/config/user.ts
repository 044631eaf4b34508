// `user` is uid[:gid] or name[:group]. Numbers are used as they are; names are
// looked up in the zone's own /etc/passwd and /etc/group when the zone boots,
// never in the host's (a zone's "www-data" need not be the host's).
import { openSync, readSync, closeSync, fstatSync, constants } from 'node:fs';
import { EXIT, LxzoneError } from '../../errors.js';
import { resolveInRoot } from './in-root.js';

export interface UserSpec {
  user: number | string;
  group?: number | string;
}

export interface ResolvedUser {
  uid: number;
  gid: number;
  /** From passwd when the user has an entry there. */
  name?: string;
  home?: string;
  shell?: string;
}

const ID_RE = /^[0-9]+$/;

export function parseUserSpec(spec: string): UserSpec {
  const [u, g, ...rest] = spec.split(':');
  if (u === undefined || u === '' || rest.length > 0 || g === '') {
    throw new LxzoneError(`user "${spec}": must be uid[:gid] or name[:group]`, { code: 'EINVAL', exitCode: EXIT.usage });
  }
  const conv = (s: string): number | string => (ID_RE.test(s) ? Number(s) : s);
  return g === undefined ? { user: conv(u) } : { user: conv(u), group: conv(g) };
}

/** Reads a file of the zone's root by its path there (an image's layers have no single directory). */
export type ZoneFileReader = (rel: string) => string | undefined;

/** Read a small file of the zone's root with symlinks resolved inside the
 * root; ENOENT gives undefined. */
export function readRootFile(root: string, rel: string): string | undefined {
  let host: string;
  try {
    host = resolveInRoot(root, rel);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  let fd: number;
  try {
    fd = openSync(host, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return undefined;
    const max = Math.min(st.size, 16 * 1048576);
    const buf = Buffer.alloc(max);
    let off = 0;
    while (off < max) {
      const n = readSync(fd, buf, off, max - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

function findEntry(text: string | undefined, key: number | string, keyField: 0 | 2): string[] | undefined {
  if (text === undefined) return undefined;
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const f = line.split(':');
    if (f.length < 4) continue;
    if (keyField === 0 ? f[0] === key : f[2] === String(key)) return f;
  }
  return undefined;
}

/**
 * Resolve a user spec against the zone's root filesystem (`rootfs` is the
 * host directory that becomes the zone's /). A numeric uid without a group
 * takes the passwd entry's gid when there is one, else the same number.
 */
export function resolveUser(spec: string, rootfs: string | ZoneFileReader): ResolvedUser {
  const { user, group } = parseUserSpec(spec);
  const readZoneFile = (_root: unknown, rel: string) => (typeof rootfs === 'string' ? readRootFile(rootfs, rel) : rootfs(rel));
  const passwd = typeof user === 'string' || group === undefined ? readZoneFile(rootfs, 'etc/passwd') : undefined;
  let uid: number;
  let gid: number | undefined;
  let pw: string[] | undefined;
  if (typeof user === 'number') {
    uid = user;
    pw = findEntry(passwd, user, 2);
  } else {
    pw = findEntry(passwd, user, 0);
    if (!pw) {
      throw new LxzoneError(`user "${user}" not found in the zone's /etc/passwd`, { code: 'ENOENT', where: 'user', exitCode: EXIT.usage });
    }
    uid = Number(pw[2]);
  }
  if (pw) gid = Number(pw[3]);
  if (group !== undefined) {
    if (typeof group === 'number') gid = group;
    else {
      const gr = findEntry(readZoneFile(rootfs, 'etc/group'), group, 0);
      if (!gr) {
        throw new LxzoneError(`group "${group}" not found in the zone's /etc/group`, { code: 'ENOENT', where: 'user', exitCode: EXIT.usage });
      }
      gid = Number(gr[2]);
    }
  }
  gid ??= uid;
  for (const [what, v] of [['uid', uid], ['gid', gid]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 65535) {
      throw new LxzoneError(`user "${spec}": ${what} ${v} is outside the zone's id range 0-65535`, {
        code: 'EINVAL',
        where: 'user',
        exitCode: EXIT.usage,
      });
    }
  }
  const out: ResolvedUser = { uid, gid };
  if (pw) {
    out.name = pw[0];
    if (pw[5]) out.home = pw[5];
    if (pw[6]) out.shell = pw[6];
  }
  return out;
}
