// Zone resource caps: one shape for both cgroup versions, validated once.
// null means "no cap" (and clears a cap on update); undefined means "leave as is".
import { LxzoneError } from '../../errors.js';
import type { ResourcesConfig } from '../config/types.js';

export interface ZoneLimits {
  /** Hard memory cap in bytes (RSS + page cache + kernel memory charged to the zone). */
  memory?: number | null;
  /** Swap the zone may use beyond `memory`, in bytes. With a memory cap and no swap given, 0: the cap is hard. */
  swap?: number | null;
  /** CPU cap in CPUs (1.5 = one and a half CPUs of time per period), via CFS quota/period (v2 cpu.max). */
  cpus?: number | null;
  /** Relative CPU weight, docker's scale: 2..262144, default 1024 (v2: converted to cpu.weight 1..10000). */
  cpuShares?: number | null;
  /** Maximum number of tasks (processes + threads). */
  pids?: number | null;
}

export const CPU_PERIOD_US = 100_000;

function where(field: string): { where: string } {
  return { where: `resources.${field}` };
}

export function validateLimits(l: ZoneLimits): void {
  const intIn = (field: keyof ZoneLimits, min: number, max: number) => {
    const v = l[field];
    if (v === undefined || v === null) return;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
      throw new LxzoneError(`resources.${field}: ${JSON.stringify(v)} must be an integer in ${min}..${max}`, where(field));
    }
  };
  intIn('memory', 4 * 1024 * 1024, Number.MAX_SAFE_INTEGER);
  intIn('swap', 0, Number.MAX_SAFE_INTEGER);
  intIn('cpuShares', 2, 262144);
  intIn('pids', 1, 4_194_304);
  if (l.cpus !== undefined && l.cpus !== null) {
    if (typeof l.cpus !== 'number' || !Number.isFinite(l.cpus) || l.cpus < 0.01 || l.cpus > 4096) {
      throw new LxzoneError(`resources.cpus: ${JSON.stringify(l.cpus)} must be a number of CPUs in 0.01..4096`, where('cpus'));
    }
  }
}

/** docker/OCI shares (2..262144) to cgroup v2 cpu.weight (1..10000): the conversion crun and runc use. */
export function sharesToWeight(shares: number): number {
  return Math.floor(1 + ((shares - 2) * 9999) / 262142);
}

export function weightToShares(weight: number): number {
  return Math.round(2 + ((weight - 1) * 262142) / 9999);
}

export function cpusToQuota(cpus: number): number {
  return Math.max(1000, Math.round(cpus * CPU_PERIOD_US));
}

export interface ZoneUsage {
  memory: { current: number; max: number | null; swapCurrent: number | null; swapMax: number | null; oomKills: number };
  cpu: { usageUsec: number; cpus: number | null; shares: number; nrThrottled: number; throttledUsec: number };
  pids: { current: number; max: number | null };
}

/** Resources as asked for: a zone config's, or flags' where null is "max" (remove the cap, update). */
export type ResourceRequest = { [K in keyof ResourcesConfig]?: number | null };

/**
 * Resources as cgroup limits: the one conversion (a config at boot, flags of
 * run and update). memoryBytes 0 means "no cap", as docker's -m 0 and as null
 * do; swapBytes 0 means no swap; diskBytes is not a cgroup limit (zone-disk.ts).
 */
export function limitsOf(r: ResourceRequest = {}): ZoneLimits {
  const l: ZoneLimits = {};
  if (r.memoryBytes !== undefined) l.memory = r.memoryBytes === 0 ? null : r.memoryBytes;
  if (r.swapBytes !== undefined) l.swap = r.swapBytes;
  if (r.cpus !== undefined) l.cpus = r.cpus;
  if (r.cpuShares !== undefined) l.cpuShares = r.cpuShares;
  if (r.pidsMax !== undefined) l.pids = r.pidsMax;
  return l;
}

/** Whether any cap is asked for: a zone without one needs no cgroup to enforce it. */
export function hasCaps(limits: ZoneLimits | undefined): limits is ZoneLimits {
  return !!limits && Object.values(limits).some((v) => v !== undefined && v !== null);
}
