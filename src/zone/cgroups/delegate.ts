// A cgroup2 subtree delegated to a system zone, for its own init (systemd) to
// manage: systemd as a zone's pid 1 needs a writable cgroup tree of its own
// (systemd's CONTAINER_INTERFACE and CGROUP_DELEGATION). lxzone gives it a
// cgroup2 directory owned by the zone's root, which the shim mounts at the
// zone's /sys/fs/cgroup through the zone's cgroup namespace (so the zone sees
// that directory as the root and nothing above it).
//
// On a unified (v2) host that directory is the zone's own cgroup, the one
// that carries its caps. On a hybrid v1 host (controllers on v1, an empty
// cgroup2 mount such as /sys/fs/cgroup/unified) it is the same relative path
// in that cgroup2 mount: systemd in the zone then runs in unified mode
// without controllers, and the zone's caps stay on v1, out of its reach.
// A host with no cgroup2 mount at all cannot run a system zone (refused).
import { chownSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LxzoneError } from '../../errors.js';

/** The files systemd's delegation rules say the delegatee must own, besides the directory. */
const DELEGATED_FILES = ['cgroup.procs', 'cgroup.threads', 'cgroup.subtree_control'];

/**
 * How many cgroups the zone may make below its own (each costs kernel memory
 * the zone's caps do not see); systemd makes one per unit, a few dozen on a
 * minimal Debian. The file stays the host's, so the zone cannot raise it.
 */
export const MAX_DELEGATED_CGROUPS = 4096;

function unescapeMount(s: string): string {
  return s.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** The host's cgroup2 mount point (unified or hybrid), or undefined when there is none. */
export function cgroup2Mount(): string | undefined {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [pre, post] = line.split(' - ');
    if (post?.split(' ')[0] === 'cgroup2') return unescapeMount(pre!.split(' ')[4]!);
  }
  return undefined;
}

function checkRelPath(rel: string): void {
  if (!rel.startsWith('/') || rel === '/' || rel.split('/').some((x) => x === '..' || x === '.')) {
    throw new LxzoneError(`delegated cgroup path ${JSON.stringify(rel)} must be an absolute cgroup path below the root, without . or ..`);
  }
}

/**
 * Creates (or takes, emptied) the cgroup2 directory at `rel` and hands it to
 * `ownerId` (the zone's root as a host id). Returns its directory; the zone's
 * init is placed in it with `placeInCgroup` before the zone runs.
 */
export async function delegateCgroup(zone: string, rel: string, ownerId: number): Promise<string> {
  checkRelPath(rel);
  const root = cgroup2Mount();
  if (root === undefined) {
    throw new LxzoneError(
      `cannot boot system zone ${zone}: the host has no cgroup2 mount (systemd in a zone needs a cgroup tree of its own; mount one, e.g. cgroup2 on /sys/fs/cgroup/unified)`,
      { code: 'ENOTSUP' },
    );
  }
  const dir = join(root, rel);
  // A leftover tree of an earlier run (a daemon killed with the zone) would hold systemd's old cgroups.
  await removeSubtrees(dir);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'cgroup.max.descendants'), String(MAX_DELEGATED_CGROUPS));
  chownSync(dir, ownerId, ownerId);
  for (const f of DELEGATED_FILES) {
    try {
      chownSync(join(dir, f), ownerId, ownerId);
    } catch (e) {
      // cgroup.threads exists only where threaded cgroups do (Linux 4.14+); the others always.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || f !== 'cgroup.threads') throw e;
    }
  }
  return dir;
}

export function placeInCgroup(dir: string, pid: number): void {
  writeFileSync(join(dir, 'cgroup.procs'), String(pid));
}

/** rmdir of a cgroup whose last processes are still being reaped fails with EBUSY for a moment. */
async function rmdirCgroup(dir: string): Promise<void> {
  for (let round = 0; ; round++) {
    try {
      rmdirSync(dir);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || round >= 100) throw e;
    }
    await sleep(round < 10 ? 10 : 50);
  }
}

/** Removes the cgroups below `dir`, deepest first (they must be empty of processes: the zone ended). */
async function removeSubtrees(dir: string): Promise<void> {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const child = join(dir, e.name);
    await removeSubtrees(child);
    await rmdirCgroup(child);
  }
}

/**
 * After the zone ended: the cgroups its init made under `rel`, and on a
 * hybrid host the delegated directory itself (on a unified host the zone's
 * cgroup module removes its own directory). Idempotent.
 */
export async function removeDelegatedCgroup(rel: string, o: { keepTop: boolean }): Promise<void> {
  checkRelPath(rel);
  const root = cgroup2Mount();
  if (root === undefined) return;
  const dir = join(root, rel);
  // Whatever still runs in the tree (a zone found dead, its processes not yet): cgroup.kill (5.14+) ends it all.
  try {
    writeFileSync(join(dir, 'cgroup.kill'), '1');
  } catch {
    // no such directory (nothing to remove) or an older kernel (the zone's pid namespace ended its processes)
  }
  await removeSubtrees(dir);
  if (!o.keepTop) await rmdirCgroup(dir);
}
