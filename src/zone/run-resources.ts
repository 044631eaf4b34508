// Resource caps for a one-shot zone: a cgroup of its own, created before the
// zone runs (the keeper places the zone's first process in it), removed with
// every leftover task when the zone has exited.
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT, LxzoneError } from '../errors.js';
import type { BindMount } from './config/types.js';
import { createZoneCgroup, defaultParent, detectCgroups, openZoneCgroup, type ZoneCgroup, type ZoneLimits } from './cgroups/index.js';
import { procViewBinds, startProcView } from './procview/index.js';

export { hasCaps } from './cgroups/limits.js';

export interface RunCaps {
  cgroup: ZoneCgroup;
  /** The zone's own /proc view (LXCFS files bound over /proc), when LXCFS can run here. */
  procBinds: BindMount[];
  /** The cgroup file sysinfo's view of the zone's memory reads. */
  memoryUsageFile?: string;
  release(): Promise<void>;
}

const RUN_CGROUP = /^run-(\d+)-[0-9a-f]{6}$/;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Cgroups of one-shot zones whose launcher was killed before it could remove
 * them (named run-<launcher pid>-<hex>): removed by the next run. A pid reused
 * since only postpones the clean-up.
 */
async function pruneOrphanedRunCgroups(): Promise<void> {
  const host = detectCgroups();
  const root = host.version === 2 ? host.v2Root : host.v1Mounts.get('pids') ?? host.v1Mounts.get('memory');
  if (!root) return;
  let names: string[];
  try {
    names = readdirSync(join(root, defaultParent(host)));
  } catch {
    return;
  }
  for (const name of names) {
    const m = RUN_CGROUP.exec(name);
    if (!m || pidAlive(Number(m[1]))) continue;
    const cg = await openZoneCgroup(name, { host }).catch(() => undefined);
    await cg?.destroy().catch(() => undefined);
  }
}

export async function createRunCaps(limits: ZoneLimits): Promise<RunCaps> {
  // Said before any cgroup directory is tried (its mkdir would fail with EACCES, naming a path, not the reason).
  if (process.getuid?.() !== 0) {
    throw new LxzoneError('resource caps (--memory, --cpus, --cpu-shares, --pids-limit) need root on this host', { exitCode: EXIT.zoneFailure, code: 'EPERM' });
  }
  await pruneOrphanedRunCgroups();
  // One-shot zones have no name; the cgroup's is unique and says what it is.
  const cgroup = await createZoneCgroup(`run-${process.pid}-${randomBytes(3).toString('hex')}`, limits);
  const memoryUsageFile =
    cgroup.version === 2
      ? cgroup.dirs.unified && `${cgroup.dirs.unified}/memory.current`
      : cgroup.dirs.memory && `${cgroup.dirs.memory}/memory.usage_in_bytes`;
  // /proc/meminfo, cpuinfo, stat … of the zone, so free(1) and top agree with the caps.
  let procBinds: RunCaps['procBinds'] = [];
  try {
    await startProcView();
    procBinds = procViewBinds();
  } catch (err) {
    process.stderr.write(`lxzone: warning: the zone's /proc shows the host's totals (${(err as Error).message})\n`);
  }
  return { cgroup, memoryUsageFile, procBinds, release: () => cgroup.destroy() };
}
