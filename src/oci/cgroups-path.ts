// linux.cgroupsPath as runc reads it without --systemd-cgroup: a cgroupfs
// path, absolute from the root of every hierarchy (v1: the same path in each
// controller's; v2: the unified one), or relative to the runtime's own
// cgroup. The systemd form `slice:prefix:name` needs --systemd-cgroup, which
// lxzone-runc refuses. The zone's cgroup is made there, capped, and removed
// at delete (its parents stay, as with runc). A path that names a cgroup in
// use (processes, or child cgroups: a slice, the kubelet's pod cgroup
// itself) is refused: lxzone would otherwise cap, and at delete kill, what is
// not the container's.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { LxzoneError } from '../errors.js';
import { cgroupOfPid, detectCgroups, type CgroupHost } from '../zone/cgroups/index.js';

function refuse(why: string): never {
  throw new LxzoneError(`config.json linux.cgroupsPath: ${why}`, { where: 'linux.cgroupsPath', code: 'EINVAL' });
}

/** The cgroup directories a relative cgroup path names on this host. */
function hostDirs(host: CgroupHost, path: string): string[] {
  return host.version === 2 ? [join(host.v2Root!, path)] : [...new Set(host.v1Mounts.values())].map((m) => join(m, path));
}

/** config.json's cgroupsPath → the zone's cgroup path (absolute from the hierarchy's root). */
export function ociCgroupPath(raw: string, host: CgroupHost = detectCgroups()): string {
  if (raw.includes(':')) refuse(`${raw}: the systemd form slice:prefix:name needs --systemd-cgroup, which lxzone-runc refuses (the kubelet's cgroup driver must be cgroupfs)`);
  if (raw.split('/').some((p) => p === '..' || p === '.')) refuse(`${raw}: must not contain '.' or '..'`);
  const own = raw.startsWith('/') ? '/' : (cgroupOfPid(process.pid, host) ?? '/');
  const path = normalize(join(own, raw)).replace(/\/+$/, '');
  if (path === '' || path === '/') refuse(`${raw}: the root cgroup cannot be a container's`);
  for (const dir of hostDirs(host, path)) {
    if (!existsSync(dir)) continue;
    const children = readdirSync(dir).filter((f) => {
      try {
        return statSync(join(dir, f)).isDirectory();
      } catch {
        return false; // gone meanwhile
      }
    });
    if (children.length) refuse(`${path} is a cgroup with child cgroups (${children.slice(0, 3).join(', ')}): a container's cgroup is a leaf of its own`);
  }
  return path;
}
