// Host-wide settings of the zone lifecycle: where state lives, which bridge
// and subnet zone networks use, where zone cgroups go, how long a halt waits.
// The daemon reads them from its environment (so a test, or a service
// manager's unit, sets them once for every zone it runs).
import { join } from 'node:path';
import type { BridgeConfig } from '../network/index.js';
import { ZoneStore } from '../state/store.js';

export interface LifecycleOptions {
  store: ZoneStore;
  /** The bridge zone networks plug into (default lxzone0, 10.213.0.0/16). */
  bridge: BridgeConfig;
  /** Relative cgroup path under which zone cgroups are made (default: defaultParent(): /lxzone on cgroup v2). */
  cgroupParent?: string;
  /** Grace period between SIGTERM and SIGKILL on halt. */
  haltTimeoutMs: number;
  /** Seconds a zone waits for a restarted daemon before its keeper stops it. */
  reattachTimeoutSeconds: number;
  /** Size cap per log file (stdout.log, stderr.log); one rotated copy is kept beside each. */
  logMaxBytes: number;
}

export const DEFAULT_HALT_TIMEOUT_MS = 10_000;
export const DEFAULT_REATTACH_TIMEOUT_S = 120;
export const DEFAULT_LOG_MAX_BYTES = 10 * 1024 * 1024;

function positiveInt(env: NodeJS.ProcessEnv, key: string, fallback: number): number {
  const v = env[key];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  return Number.isSafeInteger(n) && n > 0 ? n : fallback;
}

/**
 * Settings from the environment:
 *   LXZONE_STATE_DIR, LXZONE_RUNTIME_DIR   (see src/zone/state/paths.ts)
 *   LXZONE_BRIDGE, LXZONE_SUBNET, LXZONE_IPV6_PREFIX
 *   LXZONE_HOST_PORTS   what zones may reach at the gateway: "tcp/53,udp/53" (default none)
 *   LXZONE_CGROUP_PARENT                   a relative cgroup path, e.g. /lxzone
 *   LXZONE_HALT_TIMEOUT_MS, LXZONE_REATTACH_TIMEOUT, LXZONE_LOG_MAX_BYTES
 */
export function lifecycleOptionsFromEnv(env: NodeJS.ProcessEnv = process.env, overrides: Partial<LifecycleOptions> = {}): LifecycleOptions {
  const bridge: BridgeConfig = {};
  if (env.LXZONE_BRIDGE) bridge.name = env.LXZONE_BRIDGE;
  if (env.LXZONE_SUBNET) bridge.subnet = env.LXZONE_SUBNET;
  if (env.LXZONE_IPV6_PREFIX) bridge.ipv6Prefix = env.LXZONE_IPV6_PREFIX;
  if (env.LXZONE_HOST_PORTS) bridge.hostPorts = env.LXZONE_HOST_PORTS.split(',').map((p) => p.trim()).filter(Boolean);
  return {
    store: overrides.store ?? new ZoneStore({ env }),
    bridge: overrides.bridge ?? bridge,
    cgroupParent: overrides.cgroupParent ?? (env.LXZONE_CGROUP_PARENT || undefined),
    haltTimeoutMs: overrides.haltTimeoutMs ?? positiveInt(env, 'LXZONE_HALT_TIMEOUT_MS', DEFAULT_HALT_TIMEOUT_MS),
    reattachTimeoutSeconds: overrides.reattachTimeoutSeconds ?? positiveInt(env, 'LXZONE_REATTACH_TIMEOUT', DEFAULT_REATTACH_TIMEOUT_S),
    logMaxBytes: overrides.logMaxBytes ?? positiveInt(env, 'LXZONE_LOG_MAX_BYTES', DEFAULT_LOG_MAX_BYTES),
  };
}

/** Where the IPAM keeps its leases: beside the zones, so they outlive reboots of the host. */
export function ipamDir(store: ZoneStore): string {
  return join(store.stateDir, 'network');
}

export const isRoot = (): boolean => process.getuid?.() === 0;
