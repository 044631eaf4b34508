// Where the daemon itself lives on cgroup v2: a leaf of lxzone's own subtree,
// beside its zones (`<parent>/_daemon`, by default /lxzone/_daemon). On v2 a
// process belongs to a leaf; the daemon, the keepers it starts and the
// zone processes it forks (until the shim moves them into the zone's own
// cgroup) are then all in lxzone's tree rather than in whatever cgroup
// started it (a systemd service, a login session's scope). The unit
// (packaging/systemd/lxzone.service) declares Delegate=yes so systemd leaves
// the processes it no longer sees in its unit's cgroup alone; it keeps
// watching the daemon by its main pid.
//
// At a clean stop the daemon goes back to the cgroup it came from and
// removes the leaf when nothing else is in it (keepers of zones that keep
// running stay there, and the leaf with them), so a host without a daemon
// has no empty /lxzone/_daemon left behind.
//
// "_daemon" cannot be a zone's name (zone names start with a letter or a
// digit), so no zone's cgroup can ever be the daemon's leaf. Not on cgroup
// v1: there the zones' parent is derived from the caller's own cgroup, which
// moving would change under the daemon's feet, and v1 has no leaf rule.
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultParent, type CgroupHost } from './detect.js';

export const DAEMON_LEAF = '_daemon';

/** Where placeDaemonInLeaf put this process, and where it was before (both relative to the v2 root). */
export interface DaemonLeaf {
  rel: string;
  from?: string;
}

/**
 * Moves this process into `<parent>/_daemon` on a cgroup v2 host. Returns the
 * leaf's relative path and the cgroup the process left, or undefined when
 * there is nothing to do (v1). Throws with the kernel's reason when the move
 * is refused (not root, a read-only cgroup mount); the caller decides
 * whether that is fatal.
 */
export function placeDaemonInLeaf(host: CgroupHost, parent?: string): DaemonLeaf | undefined {
  if (host.version !== 2 || !host.v2Root) return undefined;
  const rel = join(parent ?? defaultParent(host), DAEMON_LEAF);
  const dir = join(host.v2Root, rel);
  const from = ownV2Path();
  mkdirSync(dir, { recursive: true });
  // Every thread of this process moves with the write (cgroup.procs moves a thread group).
  writeFileSync(join(dir, 'cgroup.procs'), String(process.pid));
  // Already in the leaf (nothing to go back to): no `from`.
  return { rel, ...(from !== undefined && join('/', from) !== join('/', rel) ? { from } : {}) };
}

/**
 * At a clean stop (the daemon's lock still held, so no other daemon is
 * moving in): this process goes back where it came from (or to the root
 * cgroup when that is gone), and the leaf is removed if that left it empty.
 * Never throws: what happened, for the log.
 */
export function leaveDaemonLeaf(host: CgroupHost, leaf: DaemonLeaf): string {
  if (!host.v2Root) return `stays in ${leaf.rel}`;
  if (leaf.from === undefined) return `stays in ${leaf.rel} (it started there)`;
  let back = leaf.from;
  try {
    writeFileSync(join(host.v2Root, back, 'cgroup.procs'), String(process.pid));
  } catch {
    // Its old cgroup is gone (the scope of a login session that has ended) or takes no process (an
    // inner node): the root cgroup then, which always takes one, for the moment this process has left.
    back = '/';
    try {
      writeFileSync(join(host.v2Root, 'cgroup.procs'), String(process.pid));
    } catch (e) {
      return `stays in ${leaf.rel}: neither ${leaf.from} nor the root cgroup took it back (${(e as Error).message})`;
    }
  }
  try {
    rmdirSync(join(host.v2Root, leaf.rel));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EBUSY') return `back in ${back}; ${leaf.rel} kept (the keepers of running zones are in it)`;
    if (code !== 'ENOENT') return `back in ${back}; ${leaf.rel} kept (${(e as Error).message})`;
  }
  return `back in ${back}; ${leaf.rel} removed`;
}

/** This process's cgroup v2 path ("0::" line), for log lines and checks. */
export function ownV2Path(): string | undefined {
  return readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'))?.slice(3);
}
