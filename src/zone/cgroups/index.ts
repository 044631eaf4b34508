// Zone resource caps through cgroups, v2 or v1 chosen at runtime from what the
// host mounts. See docs/parts/network-cgroups.md.
// fs.promises, not node:fs/promises: a getter that loads it when first used, not on every CLI start (issue 18).
import { promises as fsp, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LxzoneError } from '../../errors.js';
import { checkZoneName } from '../network/addressing.js';
import { defaultParent, detectCgroups, type CgroupHost } from './detect.js';
import { validateLimits, type ZoneLimits } from './limits.js';
import type { ZoneCgroup } from './types.js';
import { CgroupV1 } from './v1.js';
import { CgroupV2 } from './v2.js';
import { cgroup2Mount } from './delegate.js';

export { detectCgroups, defaultParent, type CgroupHost } from './detect.js';
export { hasCaps, limitsOf, sharesToWeight, weightToShares, type ResourceRequest, type ZoneLimits, type ZoneUsage } from './limits.js';
export type { ZoneCgroup } from './types.js';

export interface CgroupOptions {
  /** Relative cgroup path under which zones are created (same in every v1 hierarchy). Default: "<own cgroup>/lxzone". */
  parent?: string;
  /** Detected host layout (detectCgroups()); detected when omitted. */
  host?: CgroupHost;
}

export interface OpenOptions extends CgroupOptions {
  /** The zone's cgroup path as recorded at boot (ZoneCgroup.path): wins over parent and pid. */
  path?: string;
  /** A process of the running zone (its init): the cgroup is read from /proc/PID/cgroup. */
  pid?: number;
}

function checkPath(p: string, what: string): void {
  if (!p.startsWith('/') || p.split('/').some((x) => x === '..' || x === '.')) {
    throw new LxzoneError(`${what} ${JSON.stringify(p)} must be an absolute cgroup path without . or ..`, { where: 'resources.cgroupParent' });
  }
}

/** The cgroup path of `pid` (v1: in the memory hierarchy; v2: the unified one). */
export function cgroupOfPid(pid: number, host: CgroupHost = detectCgroups()): string | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [id, ctrls, path] = line.split(':');
    if (host.version === 2 ? id === '0' && ctrls === '' : ctrls?.split(',').includes('memory')) return path;
  }
  return undefined;
}

function backend(zone: string, opts: OpenOptions): CgroupV1 | CgroupV2 {
  checkZoneName(zone);
  const host = opts.host ?? detectCgroups();
  let path: string;
  if (opts.path !== undefined) path = opts.path;
  else if (opts.pid !== undefined) {
    const p = cgroupOfPid(opts.pid, host);
    if (p === undefined) throw new LxzoneError(`zone ${zone}: process ${opts.pid} is gone; cannot find its cgroup`, { code: 'ESRCH' });
    path = p;
  } else {
    const parent = opts.parent ?? defaultParent(host);
    checkPath(parent, 'cgroup parent');
    path = join(parent, zone);
  }
  checkPath(path, 'cgroup path');
  return host.version === 2 ? new CgroupV2(zone, path, host) : new CgroupV1(zone, path, host);
}

/** Create (or take over an empty leftover of) the zone's cgroup and apply `limits`; at `path` exactly when given (lxzone-runc's linux.cgroupsPath). */
export async function createZoneCgroup(zone: string, limits: ZoneLimits = {}, opts: CgroupOptions & { path?: string } = {}): Promise<ZoneCgroup> {
  validateLimits(limits);
  const cg = backend(zone, opts);
  if (await cg.exists()) {
    const pids = await cg.pids();
    if (pids.length > 0) {
      throw new LxzoneError(`cgroup of zone ${zone} (${cg.path}) still has processes ${pids.join(' ')}; is the zone running?`, { code: 'EBUSY' });
    }
  }
  await cg.create();
  // Every cap is written, absent ones as "no cap": a reused leftover directory must not keep an old cap.
  const hasMemory = limits.memory !== undefined && limits.memory !== null;
  const full: ZoneLimits = {
    memory: null,
    cpus: null,
    cpuShares: null,
    pids: null,
    ...limits,
    swap: limits.swap !== undefined ? limits.swap : hasMemory ? 0 : null,
  };
  try {
    await cg.update(full);
  } catch (err) {
    await cg.destroy().catch(() => {});
    throw err;
  }
  return cg;
}

/** The zone's existing cgroup (a restarted daemon re-attaching), or undefined if there is none. */
export async function openZoneCgroup(zone: string, opts: OpenOptions = {}): Promise<ZoneCgroup | undefined> {
  const cg = backend(zone, opts);
  return (await cg.exists()) ? cg : undefined;
}

/** Remove the zones' parent cgroup and its empty ancestors in every hierarchy, stopping at the first
 *  one that still has children or tasks (never the hierarchy root). For tests and `lxzone` uninstall. */
export async function pruneCgroupParent(parent: string, opts: { host?: CgroupHost } = {}): Promise<void> {
  const host = opts.host ?? detectCgroups();
  // On a hybrid v1 host, system zones' delegated trees use the same path in the cgroup2 mount (delegate.ts).
  const hybrid = host.version === 1 ? cgroup2Mount() : undefined;
  const roots = host.version === 2 ? [host.v2Root!] : [...new Set(host.v1Mounts.values()), ...(hybrid ? [hybrid] : [])];
  for (const root of roots) {
    for (let rel = parent; rel !== '/' && rel !== '.' && rel !== ''; rel = dirname(rel)) {
      try {
        await fsp.rmdir(join(root, rel));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') break;
      }
    }
  }
}

export { createDiskImage, diskUsage, growDiskImage, mountDiskImage, tmpfsOptions, unmountDiskImage, type DiskUsage } from './disk.js';
