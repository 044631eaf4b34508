// Resource caps for a one-shot zone: a cgroup of its own, created before the
// zone runs (the keeper places the zone's first process in it), removed with
// every leftover task when the zone has exited.
import { randomBytes } from 'node:crypto';
import { createZoneCgroup, type ZoneCgroup, type ZoneLimits } from './cgroups/index.js';
import { procViewBinds, startProcView } from './procview/index.js';

export interface RunCaps {
  cgroup: ZoneCgroup;
  /** The zone's own /proc view (LXCFS files bound over /proc), when LXCFS can run here. */
  procBinds: { source: string; target: string; readonly: boolean }[];
  /** The cgroup file sysinfo's view of the zone's memory reads. */
  memoryUsageFile?: string;
  release(): Promise<void>;
}

export function hasCaps(limits: ZoneLimits | undefined): limits is ZoneLimits {
  return !!limits && Object.values(limits).some((v) => v !== undefined && v !== null);
}

export async function createRunCaps(limits: ZoneLimits): Promise<RunCaps> {
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
