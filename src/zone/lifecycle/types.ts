// What the lifecycle reports about zones (list, inspect, stats): plain JSON,
// the same through the TypeScript API, the daemon's socket and --json.
import type { NotificationInfo } from '../notification-mode.js';
import type { ZoneImageView } from '../image/store/zone-image.js';
import type { DiskUsage, ZoneUsage } from '../cgroups/index.js';
import type { ResourcesConfig, ZoneConfig } from '../config/types.js';
import type { Lease } from '../network/index.js';
import type { ZoneStats } from '../run.js';
import type { RuntimeRecord } from '../state/store.js';
import type { UnsupportedEvent } from './unsupported-log.js';

/**
 * running     the zone's processes run (served by the daemon)
 * booting     being set up
 * halting     SIGTERM sent, waiting for it to end
 * restarting  stopped by itself; its restart policy boots it again shortly
 *             (after a back-off: nextRestartAt)
 * stopped     not running
 * failed      not running: it restarted RESTART_BURST times in a row, each
 *             run short (restart.ts); lastExit.error says so; boot restarts it
 * broken      its configuration file cannot be read (the error says why)
 */
export type ZoneState = 'running' | 'booting' | 'halting' | 'restarting' | 'stopped' | 'failed' | 'broken';

export interface LastExit {
  exitCode: number;
  signal?: string;
  reboot?: 'halt' | 'restart';
  error?: string;
  /** ISO time. */
  at: string;
  /** Stopped by halt/destroy rather than by itself. */
  haltedByUs: boolean;
}

export interface ZoneInfo {
  name: string;
  state: ZoneState;
  /** Host pid of the zone's init. */
  pid?: number;
  keeperPid?: number;
  startedAt?: string;
  uptimeSeconds?: number;
  network?: 'none' | 'loopback' | 'zone';
  /** What it runs on: the image archive, the root directory, or "host". */
  image?: string;
  /** The zone's address (kept from create to destroy, shown while stopped too). */
  ipv4?: string;
  ipv6?: string;
  restartPolicy?: string;
  /** Memory in use and its cap (bytes; null: no cap), for a running zone with a cgroup. */
  memory?: { current: number; max: number | null };
  /** Restarts in a row by the restart policy or reboot(2) (a series of short runs). */
  restarts?: number;
  /** ISO time a pending restart boots the zone (state restarting). */
  nextRestartAt?: string;
  lastExit?: LastExit;
  /** Why the configuration cannot be read (state broken). */
  error?: string;
}

export interface ZoneDetails extends ZoneInfo {
  config?: ZoneConfig;
  runtime?: RuntimeRecord;
  address?: Lease;
  cgroup?: { version: 1 | 2; path: string };
  usage?: ZoneUsage;
  /** A running zone's notified syscalls so far (its first process and what was exec'd into it). */
  syscalls?: ZoneStats;
  /** How this host's kernel delivers the zone's notified syscalls to its supervisor. */
  notification?: NotificationInfo;
  /** The newest unsupported-syscall events this daemon received for the zone, newest first (unsupported-log.ts). */
  unsupportedEvents?: UnsupportedEvent[];
  paths: { zone: string; config: string; logs: { stdout: string; stderr: string } };
  /** An image store zone's image: its exposed ports (reached at the zone's address) and volumes. */
  storeImage?: ZoneImageView;
}

export interface ZoneStatsResult {
  name: string;
  uptimeSeconds: number;
  caps: ResourcesConfig;
  usage?: ZoneUsage;
  /** CPU use over a short sample, in percent of one CPU. */
  cpuPercent?: number;
  syscalls: ZoneStats;
  /** A disk-capped zone's root filesystem while it runs (bytes). */
  disk?: DiskUsage;
  /** As ZoneDetails.unsupportedEvents. */
  unsupportedEvents?: UnsupportedEvent[];
  note?: string;
}
