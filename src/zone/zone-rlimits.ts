// RLIMIT_MEMLOCK for a zone with a memory cap (issue 21.6). Natively root
// locks any amount of memory through CAP_IPC_LOCK of the host, which no zone
// holds; the kernel lets anyone lock up to RLIMIT_MEMLOCK instead. Locked
// pages are charged to the zone's memory cgroup, so its cap already bounds
// them (the zone's own OOM killer acts within it): the limit is raised to the
// cap. Without a cap the host's default (8 MiB a process on Debian) stays:
// locked memory cannot be reclaimed, and nothing else would bound it.
//
// The shim sets it as host root before the zone's user namespace (a zone
// cannot raise a hard limit itself), which wants CAP_SYS_RESOURCE of the
// host: a launcher without it (a root confined by its own container) leaves
// the limit as it is rather than fail the zone. A limit given explicitly
// (OCI process.rlimits) wins. Negative nice values are not a limit here: the
// supervisor sets them (native/supervisor/handlers/setpriority.cc).
import { readFileSync } from 'node:fs';
import type { RunOptions } from './spec.js';

export const RLIMIT_MEMLOCK = 8;
const CAP_SYS_RESOURCE = 24n;

type Rlimit = NonNullable<RunOptions['rlimits']>[number];

/** Whether this process may raise a hard resource limit (CAP_SYS_RESOURCE in its effective set). */
export function canRaiseHardLimits(status = '/proc/self/status'): boolean {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync(status, 'utf8'));
  return !!m && ((BigInt(`0x${m[1]}`) >> CAP_SYS_RESOURCE) & 1n) === 1n;
}

export function zoneRlimits(opts: Pick<RunOptions, 'rlimits' | 'cgroupProcs' | 'memoryLimit'>, raise = canRaiseHardLimits): Rlimit[] | undefined {
  const out: Rlimit[] = [...(opts.rlimits ?? [])];
  const cap = opts.memoryLimit;
  const capped = (opts.cgroupProcs?.length ?? 0) > 0 && cap !== undefined && Number.isSafeInteger(cap) && cap > 0;
  if (capped && !out.some((r) => r.resource === RLIMIT_MEMLOCK) && raise()) {
    out.push({ resource: RLIMIT_MEMLOCK, soft: BigInt(cap), hard: BigInt(cap) });
  }
  return out.length ? out : undefined;
}
