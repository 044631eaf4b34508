// The process-wide supervisor: native threads (one per CPU, at most 4, or
// LXZONE_SUPERVISOR_THREADS) serving every zone this process runs, each zone
// on one of them. Events come in batches and are routed to the zone they
// belong to.
import { LxzoneError } from '../errors.js';
import { native, type AttachOptions, type NativeEvent, type NativeSupervisor } from '../native.js';
import type { Abi } from '../tables/index.js';
import type { ZoneHosting, ZoneSpec } from './spec.js';
import { decodeEvent, type ZoneEvent } from './events.js';
import { traceStringMasks } from './trace-format.js';
import { driverFilter } from '../policy/driver-filter.js';

export type ZoneEventListener = (event: ZoneEvent) => void;

export class ZoneSupervisor {
  private readonly native: NativeSupervisor;
  private readonly listeners = new Map<number, ZoneEventListener>();

  constructor() {
    this.native = new (native().Supervisor)((events) => this.dispatch(events), supervisorThreads());
  }

  /** Serves a zone whose keeper holds the other end of `controlFd` (ownership passes to the supervisor). */
  attach(controlFd: number, options: AttachOptions, listener: ZoneEventListener): number {
    const zone = this.native.attach(controlFd, options);
    if (this.listeners.size === 0) this.native.ref();
    this.listeners.set(zone, listener);
    return zone;
  }

  /**
   * Takes back a running zone whose supervisor went away: connects to its
   * keeper's re-attach socket; the keeper hands over the listener again and
   * the zone's waiting notified syscalls are answered from here on.
   */
  reattach(socketPath: string, options: AttachOptions, listener: ZoneEventListener): number {
    const fd = native().connectKeeper(socketPath);
    return this.attach(fd, options, listener);
  }

  /** Stops serving a zone (after its keeper has closed). */
  detach(zone: number): void {
    this.native.detach(zone);
    this.listeners.delete(zone);
    if (this.listeners.size === 0) this.native.unref();
  }

  get raw(): NativeSupervisor {
    return this.native;
  }

  private dispatch(events: NativeEvent[]): void {
    // Decoded here, once, for whichever listener the zone has.
    for (const event of events) this.listeners.get(event.zone)?.(decodeEvent(event));
  }
}

/** LXZONE_SUPERVISOR_THREADS if set (1..4), else 0: the native side's default. */
function supervisorThreads(): number {
  const v = process.env.LXZONE_SUPERVISOR_THREADS;
  if (v === undefined || v === '') return 0;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 4) throw new LxzoneError(`LXZONE_SUPERVISOR_THREADS=${v}: must be an integer 1..4`, { exitCode: 2 });
  return n;
}

let shared: ZoneSupervisor | undefined;

export function supervisor(): ZoneSupervisor {
  shared ??= new ZoneSupervisor();
  return shared;
}

/** What the supervisor needs of a zone besides its policy: the same for a first attach and a re-attach. */
/**
 * What of a zone's spec and hosting its supervisor serves it with (the same
 * field names): a start passes its RunOptions, a re-attach and exec the
 * zone's runtime record (lifecycle/plan.ts AttachRecord).
 */
export type SupervisedZone = Pick<ZoneSpec, 'hostname' | 'kernelVersion' | 'kernelVersionEnv'> & Pick<ZoneHosting, 'memoryLimit' | 'memoryUsageFile' | 'rebootMarker'>;

/**
 * The attach options of a zone: built here only, so a zone booted by the
 * daemon and the same zone re-attached after a restart are served alike
 * (they had drifted: kernelVersionEnv was on after a re-attach only).
 */
export function supervisorOptions(abis: readonly Abi[], dispatch: Buffer, z: SupervisedZone): AttachOptions {
  const o: AttachOptions = {
    dispatch,
    hostname: z.hostname ?? 'lxzone',
    kernelVersionEnv: z.kernelVersionEnv ?? false,
    traceStringArgs: traceStringMasks(abis, dispatch),
    driverFilter: driverFilter(),
  };
  if (z.kernelVersion !== undefined) o.kernelVersion = z.kernelVersion;
  if (z.memoryLimit !== undefined) o.memoryLimit = z.memoryLimit;
  if (z.memoryUsageFile !== undefined) o.memoryUsageFile = z.memoryUsageFile;
  if (z.rebootMarker !== undefined) o.rebootMarker = z.rebootMarker;
  return o;
}
