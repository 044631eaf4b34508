// The TypeScript API of the lifecycle. create and logs work on the state
// directory directly; the verbs that act on running zones go to the daemon
// (started on demand), which keeps booted zones alive after the caller exits.
import { DaemonClient, daemonCall, type ClientOptions } from '../../daemon/client.js';
import type { ResourcesConfig } from '../config/types.js';
import { isAlive } from '../state/proc.js';
import { ZoneStore } from '../state/store.js';
import type { CreateResult } from './create.js';
import { readLogs, type LogStream, type ReadLogsOptions } from './logs.js';
import { lifecycleOptionsFromEnv, type LifecycleOptions } from './options.js';
import type { ZoneDetails, ZoneInfo, ZoneStatsResult } from './types.js';
import type { RunResult, RunningZone } from '../run.js';
import { newExecSocket, startExec, type ExecOptions, type ExecTarget } from './exec.js';

export interface ApiOptions extends ClientOptions {
  lifecycle?: Partial<LifecycleOptions>;
}

function storeOf(o: ApiOptions): ZoneStore {
  return o.store ?? o.lifecycle?.store ?? new ZoneStore({ env: o.env });
}

function client(o: ApiOptions): ClientOptions {
  return { ...o, store: storeOf(o) };
}

/** Validates and stores a zone (unpacking its image); `config` is a ZoneConfig-shaped object. */
export async function createZone(config: unknown, o: ApiOptions = {}): Promise<CreateResult> {
  const opts = lifecycleOptionsFromEnv(o.env ?? process.env, { ...o.lifecycle, store: storeOf(o) });
  // Loaded here: create unpacks images (tar, zlib, zstd: most of the
  // lifecycle's code), which list, exec and the other verbs of this API
  // loaded on every CLI start before (bench/profile-cli.ts, issue 18).
  const { createZoneWith } = await import('./create.js');
  return createZoneWith(opts, config);
}

export const bootZone = (name: string, o: ApiOptions = {}) => daemonCall<ZoneInfo>('boot', { name }, client(o));

export const haltZone = (name: string, o: ApiOptions & { timeoutMs?: number } = {}) =>
  daemonCall<ZoneInfo>('halt', { name, ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}) }, client(o));

export const rebootZone = (name: string, o: ApiOptions & { timeoutMs?: number } = {}) =>
  daemonCall<ZoneInfo>('reboot', { name, ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}) }, client(o));

export const destroyZone = (name: string, o: ApiOptions & { force?: boolean } = {}) =>
  daemonCall<{ name: string; destroyed: true; warnings: string[] }>('destroy', { name, force: o.force === true }, client(o));

export const listZones = (o: ApiOptions = {}) => daemonCall<ZoneInfo[]>('list', {}, client(o));

export const inspectZone = (name: string, o: ApiOptions = {}) => daemonCall<ZoneDetails>('inspect', { name }, client(o));

/** Caps to change: a number sets, null removes, absent keeps. */
export type ResourceChanges = { [K in keyof ResourcesConfig]?: ResourcesConfig[K] | null };

export const updateZone = (name: string, resources: ResourceChanges, o: ApiOptions = {}) =>
  daemonCall<ZoneDetails & { note?: string }>('update', { name, resources }, client(o));

export const zoneStats = (name: string, o: ApiOptions = {}) => daemonCall<ZoneStatsResult>('stats', { name }, client(o));

/** What exec needs to join a running zone (asked of the daemon that serves it). */
export const execTarget = (name: string, o: ApiOptions = {}) => daemonCall<ExecTarget>('execTarget', { name }, client(o));

/**
 * Runs a command in a running zone and returns its result (exit code, and
 * stdout/stderr with stdio 'pipe'). A zone that is not running is an error.
 */
export async function execZone(name: string, exec: ExecOptions, o: ApiOptions = {}): Promise<RunResult> {
  return (await startExecZone(name, exec, o)).wait();
}

/**
 * Like execZone, but gives the running process (signals, wait). Once the
 * process runs, the daemon's supervisor serves it, as it serves the zone;
 * a daemon that cannot take it leaves it served here.
 */
export async function startExecZone(name: string, exec: ExecOptions, o: ApiOptions = {}): Promise<RunningZone> {
  const target = await execTarget(name, o);
  const store = storeOf(o);
  const socket = newExecSocket(store);
  let ran!: () => void;
  const running = new Promise<'running'>((r) => (ran = () => r('running')));
  const zone = startExec(store, target, exec, {
    reattachSocket: socket,
    reattachTimeoutSeconds: lifecycleOptionsFromEnv(o.env ?? process.env, { store }).reattachTimeoutSeconds,
    onEvent: (ev) => ev.type === 'started' && ran(),
  });
  const ended = zone.wait().then(
    () => 'ended' as const,
    () => 'ended' as const,
  );
  // Set-up failures (no such binary…) are reported by our supervisor; nothing to hand over then.
  if ((await Promise.race([running, ended])) === 'ended') return zone;
  zone.handOff();
  try {
    await daemonCall('adoptExec', { name, socket }, { ...client(o), start: false });
  } catch {
    // An older daemon, or the zone stopped meanwhile: serve it here, as before.
    // A keeper that is gone already (the process ended) needs no one.
    try {
      zone.takeBack();
    } catch {}
  }
  return zone;
}

/** Stops the daemon; with haltZones every zone is halted first (otherwise they wait for the next daemon). */
export async function stopDaemon(o: ApiOptions & { haltZones?: boolean } = {}): Promise<boolean> {
  let c: DaemonClient;
  try {
    c = await DaemonClient.connect({ ...client(o), start: false });
  } catch {
    return false;
  }
  try {
    await c.call('shutdown', { haltZones: o.haltZones === true });
    return true;
  } finally {
    c.close();
  }
}

/**
 * Writes the zone's logs through `out`; with `follow`, keeps going until the
 * zone stops. Reads the files directly: no daemon needed.
 */
export async function zoneLogs(
  name: string,
  out: Record<LogStream, (chunk: Buffer) => void>,
  o: ApiOptions & ReadLogsOptions = {},
): Promise<void> {
  const store = storeOf(o);
  store.loadConfig(name); // a zone that does not exist says so
  const running = () => {
    try {
      const rec = store.readRuntime(name);
      return rec !== undefined && isAlive(rec);
    } catch {
      return false;
    }
  };
  await readLogs(store, name, out, { running, ...o });
}
