// What the daemon's ZoneManager (manager.ts) keeps of the zones it serves,
// shared by the files that do its work: boot.ts (start a zone), zone-end.ts
// (its end and restart policy), stop.ts (halt, destroy), queries.ts (list,
// inspect, stats), recovery.ts (a restarted daemon takes zones back) and
// exec-adopt.ts (processes exec'd into them). Each of those runs inside the
// zone's queue (`serial`), under the zone's lock.
import type { ZoneStore, RuntimeRecord } from '../state/store.js';
import { addStats, type ZoneStats } from '../stats.js';
import type { ZoneHandle } from './handle.js';
import type { HostSetup } from './host-setup.js';
import type { LifecycleOptions } from './options.js';
import type { AttachRecord } from './plan.js';
import type { RestartSchedule } from './restart-schedule.js';
import type { LastExit } from './types.js';
import type { UnsupportedLog } from './unsupported-log.js';
import type { ZoneInput } from './zone-input.js';
import type { ZoneEnd } from '../session.js';

export type ManagerLog = (message: string) => void;

export interface ManagedZone {
  name: string;
  handle: ZoneHandle;
  setup: HostSetup;
  startedAt: Date;
  state: 'running' | 'halting';
  haltedByUs: boolean;
  finished: boolean;
  /** Resolves once the zone has stopped and its host side is cleaned. */
  done: Promise<void>;
  /** Processes exec'd into the zone that this daemon serves (handed over by their callers). */
  execs: Set<ZoneHandle>;
  /** What the exec'd processes that have ended were counted for. */
  execStats: ZoneStats;
  /** The highest N of an ethN a live network change gave it (network-change.ts): the next one is numbered past it, as dockerd does. */
  lastIfIndex?: number;
}

/** What the runtime record of a daemon-managed zone holds beyond the store's fields. */
export interface ZoneRuntime extends RuntimeRecord {
  keeperPid: number;
  initPid?: number;
  reattachSocket: string;
  attach: AttachRecord;
  network: string;
  ipv4?: string;
  ipv6?: string;
  cgroupPath?: string;
  daemonPid: number;
}

/** The manager's state, as the files doing its work see it. */
export interface ManagerState {
  readonly opts: LifecycleOptions;
  readonly store: ZoneStore;
  readonly log: ManagerLog;
  readonly zones: Map<string, ManagedZone>;
  /** Zones being set up by boot.ts. */
  readonly booting: Set<string>;
  /**
   * Told when a zone's run ends (whatever ended it) and when its restart
   * policy booted it again: the Docker API's die/start events.
   */
  /** `ending`: awaited before the zone's host side (its cgroup) is cleaned up, for a last look at it. */
  readonly hooks: { ending: Set<(name: string) => Promise<void>>; ended: Set<(name: string, end: ZoneEnd) => void>; restarted: Set<(name: string) => void> };
  /** The input of each running zone made with stdin or tty (zone-input.ts). */
  readonly inputs: Map<string, ZoneInput>;
  readonly restarts: RestartSchedule;
  readonly lastExit: Map<string, LastExit>;
  /** The newest unsupported-syscall events of each zone (for inspect, stats and the portal). */
  readonly unsupported: UnsupportedLog;
  /** The daemon is shutting down: no boot, no restart. */
  readonly closed: boolean;
  /** Runs fn after every earlier operation on the zone, under the zone's lock. */
  serial<T>(name: string, purpose: string, fn: () => Promise<T>): Promise<T>;
  /** Boots a zone (inside its queue): boot.ts, reached through the manager so that restarts and recovery can boot. */
  bootLocked(name: string): Promise<void>;
}

/** A zone's counters: its first process's supervisor entry, and those of the processes exec'd into it. */
export function zoneCounters(z: ManagedZone): ZoneStats {
  let sum = addStats(z.handle.session.counters(), z.execStats);
  for (const e of z.execs) sum = addStats(sum, e.session.counters());
  return sum;
}
