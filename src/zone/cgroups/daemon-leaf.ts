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
// "_daemon" cannot be a zone's name (zone names start with a letter or a
// digit), so no zone's cgroup can ever be the daemon's leaf. Not on cgroup
// v1: there the zones' parent is derived from the caller's own cgroup, which
// moving would change under the daemon's feet, and v1 has no leaf rule.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultParent, type CgroupHost } from './detect.js';

export const DAEMON_LEAF = '_daemon';

/**
 * Moves this process into `<parent>/_daemon` on a cgroup v2 host. Returns the
 * leaf's relative path, or undefined when there is nothing to do (v1). Throws
 * with the kernel's reason when the move is refused (not root, a read-only
 * cgroup mount); the caller decides whether that is fatal.
 */
export function placeDaemonInLeaf(host: CgroupHost, parent?: string): string | undefined {
  if (host.version !== 2 || !host.v2Root) return undefined;
  const rel = join(parent ?? defaultParent(host), DAEMON_LEAF);
  const dir = join(host.v2Root, rel);
  mkdirSync(dir, { recursive: true });
  // Every thread of this process moves with the write (cgroup.procs moves a thread group).
  writeFileSync(join(dir, 'cgroup.procs'), String(process.pid));
  return rel;
}

/** This process's cgroup v2 path ("0::" line), for log lines and checks. */
export function ownV2Path(): string | undefined {
  return readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'))?.slice(3);
}
