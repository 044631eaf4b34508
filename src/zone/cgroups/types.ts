import type { ZoneLimits, ZoneUsage } from './limits.js';

/** A zone's cgroup (one directory per v1 hierarchy, or one v2 directory). */
export interface ZoneCgroup {
  readonly version: 1 | 2;
  readonly zone: string;
  /** Relative cgroup path of the zone, the same in every hierarchy, e.g. "/lxzone/web". */
  readonly path: string;
  /** Absolute directories: v1 controller name -> dir; v2: { unified: dir }. */
  readonly dirs: Readonly<Record<string, string>>;
  /** The cgroup.procs files the zone's init pid must be written to before the zone runs (one per hierarchy). */
  procsFiles(): string[];
  /** Move a process (its whole thread group) into the zone's cgroup(s). */
  addProcess(pid: number): Promise<void>;
  /** Pids currently in the zone's cgroup. */
  pids(): Promise<number[]>;
  /** Change caps on the running zone; fields left undefined keep their value, null removes the cap. */
  update(limits: ZoneLimits): Promise<void>;
  usage(): Promise<ZoneUsage>;
  /** Kill every task left in the cgroup and remove the directories. Idempotent. */
  destroy(): Promise<void>;
}
