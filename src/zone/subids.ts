// Host ids delegated to lxzone (issue 14.2). Zone id ranges were handed out
// from 100000 up without a look at /etc/subuid and /etc/subgid, so the
// second user `useradd` made got exactly zone slot 1's range and could
// signal that zone's processes and rewrite its files. As LXD and podman do,
// lxzone now records one range of its own in both files, for the owner
// `lxzone`, made on first use where it overlaps no other owner's (shadow's
// useradd then allocates around it), and cuts every zone's range out of it.
// Before a zone starts, its range is checked again against both files: a
// range outside the delegation, or one that another owner's entry overlaps
// (an admin's edit since), is refused.
import { closeSync, existsSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { LxzoneError } from '../errors.js';

export const SUBID_OWNER = 'lxzone';
/** 5120 ranges of 65536 ids: slot 0 the default, 1..1023 created zones, the rest one-shot runs. */
export const DELEGATION_SIZE = 5120 * 65536;
const SUB_ID_MIN = 100000;
const FILES = { uid: '/etc/subuid', gid: '/etc/subgid' } as const;
/** The subordinate-id files a zone's range is checked against (a launch description depends on them). */
export const SUBID_FILES = FILES;

export interface SubidRange {
  owner: string;
  start: number;
  count: number;
}

/** Ids each zone gets: LXZONE_ZONE_IDS (a multiple of 65536, up to 2^24), default 65536. */
export function zoneIdCount(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.LXZONE_ZONE_IDS;
  if (v === undefined || v === '') return 65536;
  const n = Number(v);
  if (!/^[0-9]+$/.test(v) || n < 65536 || n % 65536 !== 0 || n > 2 ** 24) {
    throw new LxzoneError(`LXZONE_ZONE_IDS=${v}: must be a multiple of 65536 from 65536 to 16777216`, { code: 'EINVAL', where: 'LXZONE_ZONE_IDS', exitCode: 2 });
  }
  return n;
}

export function parseSubidFile(text: string): SubidRange[] {
  const out: SubidRange[] = [];
  for (const line of text.split('\n')) {
    const m = /^([^:#\s][^:]*):(\d+):(\d+)\s*$/.exec(line);
    if (m) out.push({ owner: m[1]!, start: Number(m[2]), count: Number(m[3]) });
  }
  return out;
}

function readRanges(file: string): SubidRange[] {
  try {
    return parseSubidFile(readFileSync(file, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

const overlaps = (a: { start: number; count: number }, b: { start: number; count: number }) => a.start < b.start + b.count && b.start < a.start + a.count;

/** The lowest start >= SUB_ID_MIN where `count` ids overlap none of `taken`. */
function freeStart(taken: SubidRange[], count: number): number {
  let start = SUB_ID_MIN;
  for (;;) {
    const hit = taken.filter((r) => overlaps(r, { start, count }));
    if (hit.length === 0) return start;
    start = Math.max(...hit.map((r) => r.start + r.count));
    if (start + count > 2 ** 32 - 1) throw new LxzoneError(`no room for lxzone's ${count} subordinate ids in ${FILES.uid} and ${FILES.gid}`, { code: 'ENOSPC', exitCode: 125 });
  }
}

// shadow's own lock protocol (commonio): a file of our pid linked to FILE.lock,
// so useradd, usermod and we never rewrite the file at once.
function withShadowLock<T>(file: string, fn: () => T): T {
  const lock = `${file}.lock`;
  const mine = `${file}.${process.pid}`;
  writeFileSync(mine, String(process.pid));
  try {
    for (let i = 0; ; i++) {
      try {
        linkSync(mine, lock);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const holder = Number(readFileSync(lock, 'utf8').trim());
        if (!Number.isInteger(holder) || holder <= 0 || !existsSync(`/proc/${holder}`)) unlinkSync(lock);
        else if (i > 200) throw new LxzoneError(`${lock} is held by pid ${holder}`, { code: 'EBUSY', exitCode: 125 });
        else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 25);
      }
    }
    try {
      return fn();
    } finally {
      unlinkSync(lock);
    }
  } finally {
    unlinkSync(mine);
  }
}

function appendEntry(file: string, r: SubidRange): void {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const tmp = `${file}.lxzone-${process.pid}`;
  const mode = existsSync(file) ? statSync(file).mode & 0o777 : 0o644;
  const fd = openSync(tmp, 'wx', mode);
  try {
    writeFileSync(fd, `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${r.owner}:${r.start}:${r.count}\n`);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

let cached: SubidRange | undefined;

/**
 * lxzone's delegated range (the same in /etc/subuid and /etc/subgid),
 * recorded on first use (root only) where no other owner's range is.
 */
export function lxzoneDelegation(): SubidRange {
  if (cached) return cached;
  const find = () => {
    const u = readRanges(FILES.uid).find((r) => r.owner === SUBID_OWNER);
    const g = readRanges(FILES.gid).find((r) => r.owner === SUBID_OWNER);
    return u && g && u.start === g.start && u.count === g.count ? u : undefined;
  };
  let d = find();
  if (!d) {
    d = withShadowLock(FILES.uid, () =>
      withShadowLock(FILES.gid, () => {
        const again = find();
        if (again) return again;
        const stray = [...readRanges(FILES.uid), ...readRanges(FILES.gid)].filter((r) => r.owner === SUBID_OWNER);
        if (stray.length > 0) {
          throw new LxzoneError(`${FILES.uid} and ${FILES.gid} give ${SUBID_OWNER} different ranges: make them one (or remove both lines to have lxzone choose)`, { code: 'EINVAL', exitCode: 125 });
        }
        const others = [...readRanges(FILES.uid), ...readRanges(FILES.gid)];
        const r = { owner: SUBID_OWNER, start: freeStart(others, DELEGATION_SIZE), count: DELEGATION_SIZE };
        appendEntry(FILES.uid, r);
        appendEntry(FILES.gid, r);
        return r;
      }),
    );
  }
  cached = d;
  return d;
}

/** Refuses a zone range outside lxzone's delegation or overlapped by another owner's subordinate ids. */
export function assertZoneRangeDelegated(idBase: number, count: number): void {
  const want = { start: idBase, count };
  const d = lxzoneDelegation();
  if (idBase < d.start || idBase + count > d.start + d.count) {
    throw new LxzoneError(`host ids ${idBase}-${idBase + count - 1} are outside the range delegated to lxzone (${SUBID_OWNER}:${d.start}:${d.count} in ${FILES.uid})`, { code: 'EPERM', exitCode: 125 });
  }
  for (const [kind, file] of Object.entries(FILES)) {
    const clash = readRanges(file).find((r) => r.owner !== SUBID_OWNER && overlaps(r, want));
    if (clash) {
      throw new LxzoneError(
        `host ${kind}s ${idBase}-${idBase + count - 1} overlap ${clash.owner}'s subordinate ids ${clash.start}-${clash.start + clash.count - 1} in ${file}: refusing to start a zone there (that user could reach its processes and files)`,
        { code: 'EPERM', where: file, exitCode: 125 },
      );
    }
  }
}

/** Forget the cached delegation (tests that edit the files). */
export function forgetDelegation(): void {
  cached = undefined;
}
