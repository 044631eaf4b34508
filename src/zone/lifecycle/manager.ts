// The zones of one host, kept by one process (the daemon): boot, halt,
// reboot, destroy, update, stats, and what happens when a zone stops by
// itself (its restart policy). Zones are started detached with a re-attach
// socket, so they outlive this process; a new ZoneManager finds them again
// through their runtime records (recover()). The work is done by one file a
// concern (managed-zone.ts names them); this class holds the state and the
// zones' queues.
//
// Concurrency: every operation on a zone runs in that zone's queue (one at a
// time in this process) and under the zone's lock in the state directory
// (against other processes: a CLI creating the zone, a second daemon). The
// end of a zone is handled outside the queue (a halt waits for it inside).
import type { NetworkConfig } from '../config/types.js';
import { changeZoneNetworkLocked } from './network-change.js';
import { LxzoneError } from '../../errors.js';
import type { ResourceRequest } from '../cgroups/limits.js';
import { bootLocked } from './boot.js';
import { changeZoneCaps } from './caps.js';
import { adoptExec, execTarget } from './exec-adopt.js';
import type { ExecTarget } from './exec.js';
import { memoryUsageFile } from './host-setup.js';
import type { ManagedZone, ManagerLog, ManagerState, ZoneRuntime } from './managed-zone.js';
import type { LifecycleOptions } from './options.js';
import type { AttachRecord } from './plan.js';
import { inspectZone, listZones, zoneInfo, zoneStats } from './queries.js';
import { recoverZones, type Recovered } from './recovery.js';
import { RestartSchedule } from './restart-schedule.js';
import { destroyLocked, stopZone } from './stop.js';
import type { LastExit, ZoneDetails, ZoneInfo, ZoneStatsResult } from './types.js';
import { setDesired } from './zone-files.js';
import { UnsupportedLog } from './unsupported-log.js';
import type { ZoneInput } from './zone-input.js';
import type { ZoneEnd } from '../session.js';

export type { ManagerLog } from './managed-zone.js';

export class ZoneManager implements ManagerState {
  readonly zones = new Map<string, ManagedZone>();
  readonly booting = new Set<string>();
  readonly inputs = new Map<string, ZoneInput>();
  readonly hooks = { ending: new Set<(name: string) => Promise<void>>(), ended: new Set<(name: string, end: ZoneEnd) => void>(), restarted: new Set<(name: string) => void>() };
  readonly restarts = new RestartSchedule();
  readonly lastExit = new Map<string, LastExit>();
  readonly unsupported = new UnsupportedLog();
  private readonly queues = new Map<string, Promise<unknown>>();
  closed = false;

  constructor(
    readonly opts: LifecycleOptions,
    readonly log: ManagerLog = () => undefined,
  ) {}

  get store() {
    return this.opts.store;
  }

  serial<T>(name: string, purpose: string, fn: () => Promise<T>): Promise<T> {
    this.store.paths(name); // validates the name before it reaches any path
    const prev = this.queues.get(name) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(() => this.store.withLock(name, fn, { purpose, timeoutMs: 30_000 }));
    this.queues.set(name, next);
    void next.catch(() => undefined).then(() => {
      if (this.queues.get(name) === next) this.queues.delete(name);
    });
    return next;
  }

  bootLocked(name: string): Promise<void> {
    return bootLocked(this, name);
  }

  boot(name: string): Promise<ZoneInfo> {
    return this.serial(name, 'boot', async () => {
      this.restarts.cancel(name);
      this.restarts.resetSeries(name);
      await this.bootLocked(name);
      setDesired(this.store, name, 'running', this.log);
      return this.info(name);
    });
  }

  halt(name: string, o: { timeoutMs?: number } = {}): Promise<ZoneInfo> {
    return this.serial(name, 'halt', async () => {
      const cancelled = this.restarts.cancel(name);
      this.store.loadConfig(name); // a zone that does not exist says so
      const z = this.zones.get(name);
      if (!z) {
        if (cancelled) {
          setDesired(this.store, name, 'stopped', this.log);
          return this.info(name);
        }
        throw new LxzoneError(`zone ${name} is not running`, { code: 'ESRCH' });
      }
      setDesired(this.store, name, 'stopped', this.log);
      await stopZone(this, z, o.timeoutMs);
      return this.info(name);
    });
  }

  reboot(name: string, o: { timeoutMs?: number } = {}): Promise<ZoneInfo> {
    return this.serial(name, 'reboot', async () => {
      this.restarts.cancel(name);
      const z = this.zones.get(name);
      if (z) await stopZone(this, z, o.timeoutMs);
      this.restarts.resetSeries(name);
      await this.bootLocked(name);
      setDesired(this.store, name, 'running', this.log);
      return this.info(name);
    });
  }

  destroy(name: string, o: { force?: boolean } = {}): Promise<{ name: string; destroyed: true; warnings: string[] }> {
    return this.serial(name, 'destroy', async () => {
      const r = await destroyLocked(this, name, o);
      this.unsupported.forget(name);
      return r;
    });
  }

  /** Put a stopped zone on another network (network-change.ts); refused while it runs. */
  changeNetwork(name: string, network: NetworkConfig): Promise<void> {
    return this.serial(name, 'network', () => changeZoneNetworkLocked(this, name, network));
  }

  // ---- update / stats --------------------------------------------------------

  /**
   * Change caps: `null` removes one, an absent field keeps it. Applied at once to a running zone, and kept (caps.ts).
   * The note says when a grown disk is seen (the CLI prints it; the portal shows it).
   */
  update(name: string, changes: ResourceRequest): Promise<ZoneDetails & { note?: string }> {
    return this.serial(name, 'update', async () => {
      const out = await changeZoneCaps(this.store, name, changes);
      const z = this.zones.get(name);
      if (z) this.pushMemoryCap(z, out.resources.memoryBytes);
      return { ...(await this.inspect(name)), ...(out.note ? { note: out.note } : {}) };
    });
  }

  /** The supervisor's sysinfo view, and the runtime record exec reads, take a new memory cap. */
  private pushMemoryCap(z: ManagedZone, memoryBytes: number | undefined): void {
    z.handle.session.updateMemory(memoryBytes ?? 0, memoryUsageFile(z.setup.cgroup));
    const rec = this.store.readRuntime(z.name) as ZoneRuntime | undefined;
    if (rec?.attach && rec.pid === z.handle.keeperPid) {
      const attach: AttachRecord = { ...rec.attach };
      if (memoryBytes !== undefined) attach.memoryLimit = memoryBytes;
      else delete attach.memoryLimit;
      this.store.writeRuntime({ ...rec, attach });
    }
  }

  /**
   * Caps were changed on the cgroup by someone else (`lxzone update` works on
   * the cgroup and the config directly): bring the supervisor's view in line
   * with the stored config.
   */
  refresh(name: string): Promise<ZoneInfo> {
    return this.serial(name, 'refresh', async () => {
      const cfg = this.store.loadConfig(name);
      const z = this.zones.get(name);
      if (z) this.pushMemoryCap(z, cfg.resources?.memoryBytes);
      return this.info(name);
    });
  }

  stats(name: string, o: { sampleMs?: number } = {}): Promise<ZoneStatsResult> {
    return zoneStats(this, name, o);
  }

  // ---- queries ---------------------------------------------------------------

  info(name: string): Promise<ZoneInfo> {
    return zoneInfo(this, name);
  }

  list(): Promise<ZoneInfo[]> {
    return listZones(this);
  }

  inspect(name: string): Promise<ZoneDetails> {
    return inspectZone(this, name);
  }

  /** The input of a running zone made with stdin or tty (Docker's attach), if it has one. */
  input(name: string): ZoneInput | undefined {
    return this.inputs.get(name);
  }

  runningNames(): string[] {
    return [...this.zones.keys()];
  }

  // ---- exec ------------------------------------------------------------------

  /** Serves a process exec'd into a running zone, handed over by its caller (exec-adopt.ts). */
  adoptExec(name: string, socket: string): { name: string; adopted: true } {
    return adoptExec(this, name, socket);
  }

  /** What `exec` needs to join the zone: its init pid and policy. */
  async execTarget(name: string): Promise<ExecTarget> {
    return execTarget(this, name);
  }

  // ---- daemon start / stop ---------------------------------------------------

  /** At daemon start: take back the zones whose keepers still run, clean and maybe boot the others (recovery.ts). */
  recover(): Promise<Recovered> {
    return recoverZones(this);
  }

  /** Stop serving (daemon exit). With haltZones, every zone is halted first; otherwise they wait for the next daemon. */
  async close(o: { haltZones?: boolean } = {}): Promise<void> {
    this.closed = true;
    this.restarts.cancelAll();
    if (o.haltZones) {
      await Promise.all([...this.zones.values()].map((z) => stopZone(this, z, undefined).catch(() => undefined)));
    }
  }
}
