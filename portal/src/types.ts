// The shapes the portal's API returns (src/zone/lifecycle/types.ts, as JSON).
export interface ZoneInfo {
  name: string;
  state: string;
  image?: string;
  startedAt?: string;
  uptimeSeconds?: number;
  ipv4?: string;
  ipv6?: string;
  restarts?: number;
  restartPolicy?: string;
  memory?: { current: number; max: number | null };
  lastExit?: { exitCode: number; signal?: string; error?: string; at: string };
  error?: string;
}

export interface SyscallCount {
  abi: string;
  nr: number;
  count: number;
  name?: string;
}

export interface ZoneStats {
  notified: SyscallCount[];
  unsupported: SyscallCount[];
  handlerErrors: number;
  jsTimeouts: number;
}

export interface Usage {
  memory: { current: number; max: number | null; oomKills: number };
  cpu: { usageUsec: number; cpus: number | null };
  pids: { current: number; max: number | null };
}

export interface UnsupportedEvent {
  at: string;
  pid: number;
  abi: string;
  nr: number;
  args: string[];
  /** Added by the portal's API from the ABI's table. */
  name?: string;
}

export interface DiskUsage {
  size: number;
  used: number;
  available: number;
}

export interface ZoneDetails extends ZoneInfo {
  config?: Record<string, unknown> & { env?: Record<string, string>; resources?: Record<string, number> };
  syscalls?: ZoneStats;
  usage?: Usage;
  unsupportedEvents?: UnsupportedEvent[];
}

export interface StatsResult {
  uptimeSeconds: number;
  caps: Record<string, number>;
  usage?: Usage;
  cpuPercent?: number;
  syscalls: ZoneStats;
  disk?: DiskUsage;
  unsupportedEvents?: UnsupportedEvent[];
  note?: string;
}
