// The zones of one host, kept by one process (the daemon): boot, halt,
// reboot, destroy, update, stats, and what happens when a zone stops by
// itself (its restart policy). Zones are started detached with a re-attach
// socket, so they outlive this process; a new ZoneManager finds them again
// through their runtime records (recover()).
//
// Concurrency: every operation on a zone runs in that zone's queue (one at a
// time in this process) and under the zone's lock in the state directory
// (against other processes: a CLI creating the zone, a second daemon). The
// end of a zone is handled outside the queue (a halt waits for it inside).
import { closeSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LxzoneError } from '../../errors.js';
import type { ZoneEvent } from '../events.js';
import type { ResourcesConfig, ZoneConfig } from '../config/types.js';
import { startProcView, procViewBinds } from '../procview/index.js';
import { mountZoneDisk } from './zone-disk.js';
import { execRecordOf, isExecSocket, recordedExecs, type ExecTarget } from './exec.js';
import { startZone } from '../run.js';
import { addStats, emptyStats, type ZoneStats } from '../stats.js';
import { writeFileAtomic } from '../state/atomic.js';
import { isAlive, processIdentity, readProcStat } from '../state/proc.js';
import type { RuntimeInput, RuntimeRecord } from '../state/store.js';
import { limitsOf } from '../cgroups/limits.js';
import { reattachHandle, startedHandle, type ZoneEnd, type ZoneHandle } from './handle.js';
import {
  checkPrivileges,
  cleanupHost,
  currentLease,
  memoryUsageFile,
  networkMode,
  placeZone,
  prepareHost,
  zoneCgroup,
  type HostSetup,
} from './host-setup.js';
import { keeperStdio, logFiles, zoneLogTargets } from './logs.js';
import { releaseZoneIds } from '../ids.js';
import { isRoot, type LifecycleOptions } from './options.js';
import { attachOptionsOf, planBoot, type AttachRecord } from './plan.js';
import { decideRestart, RESTART_SERIES_RESET_MS, restartDelayMs } from './restart.js';
import { SYSTEM_HALT_GRACE_MS, SYSTEM_STOP_SIGNAL, systemZoneProcBinds } from './system-zone.js';
import type { ZoneDetails, ZoneInfo, ZoneState, ZoneStatsResult, LastExit } from './types.js';
import { notificationMode } from '../notification-mode.js';

interface ManagedZone {
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
}

/** What the runtime record of a daemon-managed zone holds beyond the store's fields. */
interface ZoneRuntime extends RuntimeRecord {
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

export type ManagerLog = (message: string) => void;

/** sun_path holds 108 bytes with its NUL. */
const MAX_SOCKET_PATH = 107;

export class ZoneManager {
  private readonly zones = new Map<string, ManagedZone>();
  private readonly booting = new Set<string>();
  private readonly pendingRestart = new Map<string, NodeJS.Timeout>();
  private readonly restartsInARow = new Map<string, number>();
  /** When a pending restart will boot the zone (its back-off). */
  private readonly nextRestartAt = new Map<string, Date>();
  /** Zones left stopped by the restart limit (until booted, halted or destroyed). */
  private readonly failed = new Set<string>();
  private readonly lastExit = new Map<string, LastExit>();
  private readonly queues = new Map<string, Promise<unknown>>();
  private closed = false;

  constructor(
    readonly opts: LifecycleOptions,
    private readonly log: ManagerLog = () => undefined,
  ) {}

  get store() {
    return this.opts.store;
  }

  /** Runs fn after every earlier operation on the zone, under the zone's lock. */
  private serial<T>(name: string, purpose: string, fn: () => Promise<T>): Promise<T> {
    this.store.paths(name); // validates the name before it reaches any path
    const prev = this.queues.get(name) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(() => this.store.withLock(name, fn, { purpose, timeoutMs: 30_000 }));
    this.queues.set(name, next);
    void next.catch(() => undefined).then(() => {
      if (this.queues.get(name) === next) this.queues.delete(name);
    });
    return next;
  }

  private socketPath(name: string): string {
    return join(this.store.runtimeDir, 'zones', `${name}.sock`);
  }

  /** Where a supervisor records a reboot(2) of the zone before the zone ends (reboot.cc). */
  private rebootMarker(name: string): string {
    return join(this.store.runtimeDir, 'zones', `${name}.reboot`);
  }

  /** The reboot(2) recorded for the zone's last run, if any; the marker is removed. */
  private takeRebootMarker(name: string): 'restart' | 'halt' | undefined {
    const file = this.rebootMarker(name);
    let text = '';
    try {
      text = readFileSync(file, 'utf8').trim();
    } catch {
      return undefined;
    }
    rmSync(file, { force: true });
    return text === 'restart' || text === 'halt' ? text : undefined;
  }

  private desiredFile(name: string): string {
    return join(this.store.paths(name).zoneDir, 'desired-state');
  }

  /** What the user last asked for (boot: running, halt: stopped): decides unless-stopped at daemon start. */
  private setDesired(name: string, state: 'running' | 'stopped'): void {
    try {
      writeFileAtomic(this.desiredFile(name), `${state}\n`);
    } catch (e) {
      this.log(`zone ${name}: cannot record desired state: ${(e as Error).message}`);
    }
  }

  /** undefined: never booted (docker's rule too: a container never started is not started by its policy). */
  private desired(name: string): 'running' | 'stopped' | undefined {
    try {
      return readFileSync(this.desiredFile(name), 'utf8').trim() === 'running' ? 'running' : 'stopped';
    } catch {
      return undefined;
    }
  }

  private cancelRestart(name: string): boolean {
    this.failed.delete(name); // whatever comes next (boot, halt, destroy) decides anew
    const t = this.pendingRestart.get(name);
    if (!t) return false;
    clearTimeout(t);
    this.pendingRestart.delete(name);
    this.nextRestartAt.delete(name);
    return true;
  }

  // ---- boot ---------------------------------------------------------------

  boot(name: string): Promise<ZoneInfo> {
    return this.serial(name, 'boot', async () => {
      this.cancelRestart(name);
      this.restartsInARow.delete(name);
      await this.bootLocked(name);
      this.setDesired(name, 'running');
      return this.info(name);
    });
  }

  private async bootLocked(name: string): Promise<void> {
    if (this.closed) throw new LxzoneError('the daemon is shutting down', { code: 'ESHUTDOWN' });
    const running = this.zones.get(name);
    if (running && !running.finished) throw new LxzoneError(`zone ${name} is already running (pid ${running.handle.initPid})`, { code: 'EBUSY' });
    const cfg = this.store.loadConfig(name);
    const stale = this.store.readRuntime(name);
    if (stale && isAlive(stale)) {
      throw new LxzoneError(`zone ${name} is already running (keeper pid ${stale.pid}, not served by this daemon)`, { code: 'EBUSY' });
    }
    if (stale) this.store.removeRuntime(name);
    checkPrivileges(cfg);
    const socketPath = this.socketPath(name);
    if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
      throw new LxzoneError(
        `cannot boot zone ${name}: its re-attach socket ${socketPath} is ${Buffer.byteLength(socketPath)} bytes, longer than a Unix socket address allows (${MAX_SOCKET_PATH}); use a shorter runtime directory (LXZONE_RUNTIME_DIR) or zone name`,
        { code: 'ENAMETOOLONG' },
      );
    }
    this.booting.add(name);
    let setup: HostSetup | undefined;
    let startedZone: ReturnType<typeof startZone> | undefined;
    let endedP: Promise<ZoneEnd> | undefined;
    try {
      // A zone found dead may have left its cgroup, veth or mounted disk: start clean.
      await cleanupHost(this.opts, name);
      const disk = await mountZoneDisk(this.store, cfg);
      const plan = planBoot(this.store, cfg, disk?.rootfs);
      this.takeRebootMarker(name); // a stale one would make this run's end a reboot
      plan.attach.rebootMarker = this.rebootMarker(name);
      for (const w of plan.warnings) this.log(`zone ${name}: ${w}`);
      setup = await prepareHost(this.opts, cfg, plan.attach.idBase);
      const usageFile = memoryUsageFile(setup.cgroup);
      if (usageFile) plan.attach.memoryUsageFile = usageFile;
      const procBinds = [...(await this.procBinds(name)), ...(cfg.system ? systemZoneProcBinds(this.store.runtimeDir, name) : [])];
      // The keeper writes the zone's output to its log files (the zone has
      // pipes); its own stdin, stdout and stderr are /dev/null until then.
      const stdio = keeperStdio();
      const socket = this.socketPath(name);
      let startedResolve!: () => void;
      const started = new Promise<void>((r) => (startedResolve = r));
      const hostSetup = setup;
      let zone;
      try {
        zone = startZone({
          ...plan.spec,
          ...plan.hosting,
          procBinds,
          stdio: 'fds',
          stdioFds: stdio,
          logFiles: zoneLogTargets(this.store, name, this.opts.logMaxBytes),
          ...(setup.cgroup ? { cgroupProcs: setup.cgroup.procsFiles() } : {}),
          detached: true,
          reattachSocket: socket,
          reattachTimeoutSeconds: this.opts.reattachTimeoutSeconds,
          ...(plan.attach.memoryLimit !== undefined ? { memoryLimit: plan.attach.memoryLimit } : {}),
          rebootMarker: plan.attach.rebootMarker,
          ...(usageFile ? { memoryUsageFile: usageFile } : {}),
          onCreated: (pid) => placeZone(this.opts, name, hostSetup, pid),
          onEvent: (ev: ZoneEvent) => {
            if (ev.type === 'started') startedResolve();
            this.onZoneEvent(name, ev);
          },
        });
        startedZone = zone;
      } finally {
        for (const fd of new Set(stdio)) closeSync(fd); // the keeper has its own copies
      }
      const waited = zone.wait().then(
        (r) => ({ exitCode: r.exitCode, ...(r.signal ? { signal: r.signal } : {}), ...(r.reboot ? { reboot: r.reboot } : {}) }) as ZoneEnd,
        (e: LxzoneError) => ({ exitCode: e.exitCode ?? 125, error: e.message }) as ZoneEnd,
      );
      endedP = waited;
      const keeper = processIdentity(zone.keeperPid);
      const record: RuntimeInput = {
        name,
        pid: zone.keeperPid,
        startTime: keeper.startTime,
        bootId: keeper.bootId,
        keeperPid: zone.keeperPid,
        reattachSocket: socket,
        attach: plan.attach,
        network: setup.network,
        daemonPid: process.pid,
        ...(setup.lease ? { ipv4: setup.lease.ipv4, ipv6: setup.lease.ipv6 } : {}),
        // cgroupPath: where lxzone stats/update (caps.ts) look for the cgroup.
        ...(setup.cgroup ? { cgroupPath: setup.cgroup.path } : {}),
      };
      // Written before the zone runs: a daemon killed from here on finds the zone again.
      this.store.writeRuntime(record);
      const first = await Promise.race([zone.initPid.then((pid) => ({ pid })), waited.then((end) => ({ end }))]);
      if ('end' in first) throw new LxzoneError(`cannot boot zone ${name}: ${first.end.error ?? `exited ${first.end.exitCode} during setup`}`, { exitCode: 1 });
      const handle = startedHandle(zone, first.pid, waited);
      const ran = await Promise.race([started.then(() => undefined), waited]);
      if (ran?.error) throw new LxzoneError(`cannot boot zone ${name}: ${ran.error}`, { exitCode: 1 });
      this.store.writeRuntime({ ...record, initPid: first.pid, startedAt: new Date().toISOString() });
      this.adopt(name, handle, setup, new Date());
      this.log(`zone ${name}: booted (init pid ${first.pid}${setup.lease ? `, ${setup.lease.ipv4}` : ''})`);
    } catch (e) {
      if (startedZone && endedP) {
        // Half-started: the zone must not outlive its failed boot.
        startedZone.kill('SIGKILL');
        await Promise.race([endedP, sleep(5000)]);
      }
      this.store.removeRuntime(name);
      await cleanupHost(this.opts, name);
      throw e;
    } finally {
      this.booting.delete(name);
    }
  }

  /** The zone's own /proc view (LXCFS) when it can be had; a zone without it still boots. */
  private async procBinds(name: string) {
    if (!isRoot() || process.env.LXZONE_PROCVIEW === '0') return [];
    try {
      const mountpoint = process.env.LXZONE_PROCVIEW_MOUNT || undefined;
      await startProcView(mountpoint ? { mountpoint } : {});
      return procViewBinds(mountpoint ? { mountpoint } : {});
    } catch (e) {
      this.log(`zone ${name}: no /proc view (LXCFS): ${(e as Error).message}`);
      return [];
    }
  }

  private onZoneEvent(name: string, ev: ZoneEvent): void {
    if (ev.type === 'unsupported') this.log(`zone ${name}: unsupported syscall ${ev.abi} ${ev.nr} (ENOSYS)`);
    if (ev.type === 'reboot') this.log(`zone ${name}: reboot(2) ${ev.action.toUpperCase()} from inside the zone`);
  }

  /** Starts serving a zone: the handling of its end. */
  private adopt(name: string, handle: ZoneHandle, setup: HostSetup, startedAt: Date): void {
    const z: ManagedZone = {
      name,
      handle,
      setup,
      startedAt,
      state: 'running',
      haltedByUs: false,
      finished: false,
      done: Promise.resolve(),
      execs: new Set(),
      execStats: emptyStats(),
    };
    z.done = handle.ended
      .then((end) => this.onEnd(z, end))
      .catch((e: Error) => {
        z.finished = true;
        if (this.zones.get(name) === z) this.zones.delete(name);
        this.log(`zone ${name}: handling its end failed: ${e.message}`);
      });
    this.zones.set(name, z);
  }

  private async onEnd(z: ManagedZone, ended: ZoneEnd): Promise<void> {
    // A reboot(2) served by another supervisor (a process exec'd into the
    // zone, served by its caller) is known from the zone's reboot marker.
    const asked = this.takeRebootMarker(z.name);
    const end: ZoneEnd = !ended.reboot && asked ? { ...ended, reboot: asked, ...(asked === 'halt' ? { exitCode: 0 } : {}) } : ended;
    const errors = await cleanupHost(this.opts, z.name, z.setup.cgroup ? { cgroupPath: z.setup.cgroup.path } : {});
    for (const e of errors) this.log(`zone ${z.name}: cleanup: ${e}`);
    const rec = this.store.readRuntime(z.name);
    if (rec && rec.pid === z.handle.keeperPid) this.store.removeRuntime(z.name);
    // A keeper killed by SIGKILL could not unlink its re-attach socket.
    rmSync(this.socketPath(z.name), { force: true });
    z.finished = true;
    if (this.zones.get(z.name) === z) this.zones.delete(z.name);
    const ranMs = Date.now() - z.startedAt.getTime();
    this.lastExit.set(z.name, { ...end, at: new Date().toISOString(), haltedByUs: z.haltedByUs });
    this.log(`zone ${z.name}: stopped (exit ${end.exitCode}${end.signal ? `, ${end.signal}` : ''}${end.reboot ? `, reboot ${end.reboot}` : ''}${end.error ? `: ${end.error}` : ''})`);
    if (this.closed) return;
    let cfg: ZoneConfig;
    try {
      cfg = this.store.loadConfig(z.name);
    } catch {
      return; // destroyed, or a config that no longer parses: nothing to restart
    }
    if (ranMs >= RESTART_SERIES_RESET_MS) this.restartsInARow.delete(z.name);
    const n = this.restartsInARow.get(z.name) ?? 0;
    const d = decideRestart(cfg.restartPolicy, end, { haltedByUs: z.haltedByUs, restartsInARow: n });
    if (d.limited) {
      // Left stopped, and its state says why (list: failed; inspect: lastExit.error).
      this.failed.add(z.name);
      this.lastExit.set(z.name, { ...this.lastExit.get(z.name)!, error: `${d.why}; \`lxzone boot\` starts it again` });
      this.setDesired(z.name, 'stopped'); // a restarted daemon does not resume the storm
      this.log(`zone ${z.name}: not restarted: ${d.why}`);
    }
    if (!d.restart) return;
    // A reboot(2) RESTART that starts a series is what the zone asked for: at
    // once; after that, and after a crash: with a growing delay.
    const delay = restartDelayMs(n, { reboot: end.reboot === 'restart' });
    this.log(`zone ${z.name}: restarting in ${delay} ms (${d.why})`);
    this.restartsInARow.set(z.name, n + 1);
    this.scheduleBoot(z.name, delay);
  }

  private scheduleBoot(name: string, delay: number): void {
    this.cancelRestart(name);
    this.nextRestartAt.set(name, new Date(Date.now() + delay));
    const t = setTimeout(() => {
      this.pendingRestart.delete(name);
      this.nextRestartAt.delete(name);
      this.serial(name, 'restart', () => this.bootLocked(name)).catch((e: Error) => {
        this.log(`zone ${name}: restart failed: ${e.message}`);
        this.lastExit.set(name, { exitCode: 125, error: `restart failed: ${e.message}`, at: new Date().toISOString(), haltedByUs: false });
      });
    }, delay);
    this.pendingRestart.set(name, t);
  }

  // ---- halt / reboot / destroy -----------------------------------------------

  halt(name: string, o: { timeoutMs?: number } = {}): Promise<ZoneInfo> {
    return this.serial(name, 'halt', async () => {
      const cancelled = this.cancelRestart(name);
      this.store.loadConfig(name); // a zone that does not exist says so
      const z = this.zones.get(name);
      if (!z) {
        if (cancelled) {
          this.setDesired(name, 'stopped');
          return this.info(name);
        }
        throw new LxzoneError(`zone ${name} is not running`, { code: 'ESRCH' });
      }
      this.setDesired(name, 'stopped');
      await this.stop(z, o.timeoutMs);
      return this.info(name);
    });
  }

  /**
   * SIGTERM to the zone's init (forwarded to the program by the reaper), up
   * to `graceMs` for it to end, then SIGKILL of init, which takes the whole
   * pid namespace with it; then whatever is left in the cgroup; then the keeper.
   */
  private async stop(z: ManagedZone, graceMs: number | undefined): Promise<void> {
    z.haltedByUs = true;
    z.state = 'halting';
    const ended = () => z.finished;
    const waitDone = (ms: number) => Promise.race([z.done, sleep(ms)]);
    // A system zone's init shuts down through its own services (system-zone.ts).
    const system = this.isSystemZone(z.name);
    graceMs ??= system ? Math.max(SYSTEM_HALT_GRACE_MS, this.opts.haltTimeoutMs) : this.opts.haltTimeoutMs;
    if (graceMs > 0) {
      try {
        z.handle.signal(system ? SYSTEM_STOP_SIGNAL : 'SIGTERM');
      } catch {}
      await waitDone(graceMs);
    }
    if (!ended()) {
      this.log(`zone ${z.name}: still running after ${graceMs} ms; SIGKILL`);
      try {
        z.handle.signal('SIGKILL');
      } catch {}
      await waitDone(5000);
    }
    if (!ended()) {
      await z.setup.cgroup?.destroy().catch(() => undefined);
      const keeper = readProcStat(z.handle.keeperPid);
      if (keeper) {
        try {
          process.kill(z.handle.keeperPid, 'SIGKILL');
        } catch {}
      }
      await waitDone(5000);
    }
    if (!ended()) throw new LxzoneError(`zone ${z.name} did not stop (keeper pid ${z.handle.keeperPid})`, { code: 'ETIMEDOUT' });
    await z.done;
  }

  private isSystemZone(name: string): boolean {
    try {
      return this.store.loadConfig(name).system === true;
    } catch {
      return false; // destroyed or unreadable: stopped the plain way
    }
  }

  reboot(name: string, o: { timeoutMs?: number } = {}): Promise<ZoneInfo> {
    return this.serial(name, 'reboot', async () => {
      this.cancelRestart(name);
      const z = this.zones.get(name);
      if (z) await this.stop(z, o.timeoutMs);
      this.restartsInARow.delete(name);
      await this.bootLocked(name);
      this.setDesired(name, 'running');
      return this.info(name);
    });
  }

  destroy(name: string, o: { force?: boolean } = {}): Promise<{ name: string; destroyed: true; warnings: string[] }> {
    return this.serial(name, 'destroy', async () => {
      const p = this.store.paths(name);
      if (!existsSync(p.zoneDir)) throw new LxzoneError(`zone ${name} does not exist`, { code: 'ENOENT' });
      const z = this.zones.get(name);
      const rec = (() => {
        try {
          return this.store.readRuntime(name);
        } catch {
          return undefined;
        }
      })();
      const unmanaged = !z && rec !== undefined && isAlive(rec);
      if ((z || unmanaged || this.booting.has(name)) && !o.force) {
        throw new LxzoneError(`zone ${name} is running; halt it first or destroy it with --force`, { code: 'EBUSY' });
      }
      this.cancelRestart(name);
      if (z) await this.stop(z, 0);
      else if (unmanaged && rec) {
        try {
          process.kill(rec.pid, 'SIGKILL');
        } catch {}
      }
      const warnings = await cleanupHost(this.opts, name, { release: true, ...(rec?.cgroupPath ? { cgroupPath: rec.cgroupPath as string } : {}) });
      releaseZoneIds(this.store, name);
      rmSync(this.socketPath(name), { force: true });
      rmSync(this.rebootMarker(name), { force: true });
      this.store.remove(name);
      this.lastExit.delete(name);
      this.restartsInARow.delete(name);
      this.log(`zone ${name}: destroyed`);
      return { name, destroyed: true as const, warnings };
    });
  }

  // ---- update / stats --------------------------------------------------------

  /** Change caps: `null` removes one, an absent field keeps it. Applied at once to a running zone, and kept. */
  update(name: string, changes: { [K in keyof ResourcesConfig]?: ResourcesConfig[K] | null }): Promise<ZoneDetails> {
    return this.serial(name, 'update', async () => {
      const cfg = this.store.loadConfig(name);
      const resources: ResourcesConfig = { ...(cfg.resources ?? {}) };
      for (const [k, v] of Object.entries(changes) as [keyof ResourcesConfig, number | null | undefined][]) {
        if (v === undefined) continue;
        if (v === null) delete resources[k];
        else resources[k] = v;
      }
      const next: ZoneConfig = { ...cfg, resources };
      if (Object.keys(resources).length === 0) delete next.resources;
      checkPrivileges(next);
      const z = this.zones.get(name);
      if (z) {
        if (!z.setup.cgroup) throw new LxzoneError(`zone ${name} has no cgroup; its caps cannot change while it runs`, { code: 'ENOTSUP' });
        const delta: Record<string, number | null> = {};
        const before = limitsOf(cfg.resources) as Record<string, number | undefined>;
        const after = limitsOf(resources) as Record<string, number | undefined>;
        for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) {
          if (before[k] !== after[k]) delta[k] = after[k] ?? null;
        }
        await z.setup.cgroup.update(delta);
        if ('memory' in delta) this.pushMemoryCap(z, resources.memoryBytes);
      }
      this.store.saveConfig(next);
      return this.inspect(name);
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

  async stats(name: string, o: { sampleMs?: number } = {}): Promise<ZoneStatsResult> {
    const z = this.zones.get(name);
    if (!z) {
      this.store.loadConfig(name);
      throw new LxzoneError(`zone ${name} is not running`, { code: 'ESRCH' });
    }
    const cg = z.setup.cgroup;
    const cfg = this.store.loadConfig(name);
    const out: ZoneStatsResult = {
      name,
      uptimeSeconds: Math.round((Date.now() - z.startedAt.getTime()) / 1000),
      caps: cfg.resources ?? {},
      syscalls: zoneCounters(z),
    };
    if (cg) {
      const a = await cg.usage();
      const t0 = Date.now();
      await sleep(o.sampleMs ?? 250);
      const b = await cg.usage();
      const wallUs = (Date.now() - t0) * 1000;
      out.usage = b;
      out.cpuPercent = Math.round(((b.cpu.usageUsec - a.cpu.usageUsec) / wallUs) * 1000) / 10;
    } else {
      out.note = isRoot() ? 'the zone has no cgroup' : 'rootless zone: no cgroup, no usage figures';
    }
    return out;
  }

  // ---- list / inspect --------------------------------------------------------

  private state(name: string): ZoneState {
    const z = this.zones.get(name);
    if (z) return z.state;
    if (this.booting.has(name)) return 'booting';
    if (this.pendingRestart.has(name)) return 'restarting';
    try {
      const rec = this.store.readRuntime(name);
      if (rec && isAlive(rec)) return 'running';
    } catch {}
    return this.failed.has(name) ? 'failed' : 'stopped';
  }

  async info(name: string): Promise<ZoneInfo> {
    const state = this.state(name);
    const info: ZoneInfo = { name, state };
    // Read with the state, before any await: the restart may happen meanwhile.
    const next = this.nextRestartAt.get(name);
    if (next) info.nextRestartAt = next.toISOString();
    let cfg: ZoneConfig | undefined;
    try {
      cfg = this.store.loadConfig(name);
      info.restartPolicy = cfg.restartPolicy;
      info.network = networkMode(cfg);
      info.image = imageOf(cfg);
    } catch (e) {
      info.error = (e as Error).message;
      info.state = state === 'stopped' ? 'broken' : state;
    }
    const z = this.zones.get(name);
    if (z) {
      info.pid = z.handle.initPid;
      info.keeperPid = z.handle.keeperPid;
      info.startedAt = z.startedAt.toISOString();
      info.uptimeSeconds = Math.floor((Date.now() - z.startedAt.getTime()) / 1000);
      const u = await z.setup.cgroup?.usage().catch(() => undefined);
      if (u) info.memory = { current: u.memory.current, max: u.memory.max };
    }
    const lease = await currentLease(this.opts, name);
    if (lease) {
      info.ipv4 = lease.ipv4;
      info.ipv6 = lease.ipv6;
    }
    const n = this.restartsInARow.get(name);
    if (n) info.restarts = n;
    const last = this.lastExit.get(name);
    if (last) info.lastExit = last;
    return info;
  }

  async list(): Promise<ZoneInfo[]> {
    const names = new Set([...this.store.list(), ...this.zones.keys()]);
    return Promise.all([...names].sort().map((n) => this.info(n)));
  }

  async inspect(name: string): Promise<ZoneDetails> {
    const p = this.store.paths(name);
    if (!existsSync(p.zoneDir)) throw new LxzoneError(`zone ${name} does not exist`, { code: 'ENOENT' });
    const info = await this.info(name);
    const details: ZoneDetails = { ...info, paths: { zone: p.zoneDir, config: p.configFile, logs: logFiles(this.store, name) } };
    try {
      details.config = this.store.loadConfig(name);
    } catch {}
    try {
      const rec = this.store.readRuntime(name);
      if (rec) details.runtime = rec;
    } catch {}
    const lease = await currentLease(this.opts, name);
    if (lease) details.address = lease;
    const z = this.zones.get(name);
    const cg = z?.setup.cgroup;
    if (cg) {
      details.cgroup = { version: cg.version, path: cg.path };
      details.usage = await cg.usage().catch(() => undefined);
    }
    if (z) details.syscalls = zoneCounters(z);
    try {
      details.notification = notificationMode();
    } catch (err) {
      this.log(`inspect ${name}: ${(err as Error).message}`);
    }
    return details;
  }

  /**
   * Serves a process exec'd into a running zone, handed over by the caller
   * that started it (its keeper waits on `socket`, in this installation's
   * exec socket directory). Its notified syscalls are answered with the
   * zone's policy and settings, its counters join the zone's, and a reboot(2)
   * it makes is the zone's.
   */
  adoptExec(name: string, socket: string): { name: string; adopted: true } {
    const z = this.zones.get(name);
    const rec = this.store.readRuntime(name) as ZoneRuntime | undefined;
    if (!z || z.state !== 'running' || !rec?.attach) throw new LxzoneError(`zone ${name} is not running`, { code: 'ESRCH' });
    if (!isExecSocket(this.store, socket)) throw new LxzoneError(`${socket}: not an exec socket of this installation`, { code: 'EINVAL' });
    const attach = { ...rec.attach };
    const usageFile = memoryUsageFile(z.setup.cgroup);
    if (usageFile) attach.memoryUsageFile = usageFile;
    let handle: ZoneHandle | undefined;
    handle = reattachHandle(socket, attachOptionsOf(attach), { keeperPid: 0, initPid: z.handle.initPid }, (ev) => {
      // The keeper names the zone it joined: one of another zone is not served under this one's policy.
      if (ev.type === 'ready' && ev.initPid !== z.handle.initPid) {
        this.log(`zone ${name}: exec socket ${socket} belongs to another zone (init ${ev.initPid}); refused`);
        handle?.signal('SIGKILL');
      }
      this.onZoneEvent(name, ev);
    });
    const h = handle;
    z.execs.add(h);
    const record = execRecordOf(socket);
    writeFileSync(record, `${name}\n`, { mode: 0o600 });
    void h.ended.then(() => {
      z.execStats = addStats(z.execStats, h.session.counters());
      z.execs.delete(h);
      rmSync(record, { force: true });
    });
    return { name, adopted: true };
  }

  /** What `exec` needs to join the zone: its init pid and policy. */
  async execTarget(name: string): Promise<ExecTarget> {
    const config = this.store.loadConfig(name);
    const z = this.zones.get(name);
    const rec = this.store.readRuntime(name) as ZoneRuntime | undefined;
    if (!z || z.state !== 'running' || !rec) throw new LxzoneError(`zone ${name} is not running; boot it first`, { code: 'ESRCH' });
    const cgroupProcs = z.setup.cgroup?.procsFiles() ?? [];
    return { name, initPid: z.handle.initPid, keeperPid: z.handle.keeperPid, attach: rec.attach, config, cgroupProcs };
  }

  // ---- daemon start / stop ---------------------------------------------------

  /**
   * At daemon start: take back every zone whose keeper still runs (through its
   * re-attach socket); for the others, clean what they left (cgroup, veth,
   * runtime record) and boot those their restart policy wants running.
   */
  async recover(): Promise<{ reattached: string[]; stopped: string[]; booted: string[] }> {
    const out = { reattached: [] as string[], stopped: [] as string[], booted: [] as string[] };
    for (const name of this.store.list()) {
      await this.serial(name, 'recover', async () => {
        let rec: ZoneRuntime | undefined;
        try {
          rec = this.store.readRuntime(name) as ZoneRuntime | undefined;
        } catch (e) {
          this.log(`zone ${name}: ${(e as Error).message}; removed`);
          this.store.removeRuntime(name);
        }
        if (rec && isAlive(rec)) {
          try {
            await this.reattach(name, rec);
            out.reattached.push(name);
            return;
          } catch (e) {
            this.log(`zone ${name}: cannot re-attach (${(e as Error).message}); stopping it`);
            try {
              process.kill(rec.pid, 'SIGKILL');
            } catch {}
            await sleep(100);
          }
        }
        const wasRunning = rec !== undefined;
        if (rec) this.store.removeRuntime(name);
        rmSync(this.socketPath(name), { force: true });
        const errors = await cleanupHost(this.opts, name, rec?.cgroupPath ? { cgroupPath: rec.cgroupPath } : {});
        for (const e of errors) this.log(`zone ${name}: cleanup: ${e}`);
        if (wasRunning) {
          out.stopped.push(name);
          this.lastExit.set(name, { exitCode: 125, error: 'stopped while no daemon was serving it', at: new Date().toISOString(), haltedByUs: false });
        }
        let cfg: ZoneConfig;
        try {
          cfg = this.store.loadConfig(name);
        } catch (e) {
          this.log(`zone ${name}: ${(e as Error).message}`);
          return;
        }
        const policy = cfg.restartPolicy;
        const desired = this.desired(name);
        const want =
          (policy === 'always' && desired !== undefined) ||
          (policy === 'unless-stopped' && desired === 'running') ||
          (wasRunning && policy.startsWith('on-failure'));
        if (!want) return;
        try {
          await this.bootLocked(name);
          out.booted.push(name);
        } catch (e) {
          this.log(`zone ${name}: boot at daemon start failed: ${(e as Error).message}`);
        }
      }).catch((e: Error) => this.log(`zone ${name}: ${e.message}`));
    }
    // Processes exec'd into those zones wait on their keepers' sockets too.
    for (const [socket, name] of recordedExecs(this.store)) {
      try {
        this.adoptExec(name, socket);
        this.log(`zone ${name}: exec'd process re-attached (${socket})`);
      } catch (e) {
        this.log(`zone ${name}: cannot re-attach the exec'd process at ${socket} (${(e as Error).message}); its keeper stops it`);
        rmSync(execRecordOf(socket), { force: true });
        rmSync(socket, { force: true }); // a keeper killed by SIGKILL could not unlink it
      }
    }
    return out;
  }

  private async reattach(name: string, rec: ZoneRuntime): Promise<void> {
    if (!rec.reattachSocket || !rec.attach || !rec.initPid) throw new LxzoneError('its runtime record has no re-attach socket');
    const cgroup = await zoneCgroup(this.opts, name, rec.cgroupPath);
    const attach = { ...rec.attach };
    const usageFile = memoryUsageFile(cgroup);
    if (usageFile) attach.memoryUsageFile = usageFile;
    const handle = reattachHandle(rec.reattachSocket, attachOptionsOf(attach), { keeperPid: rec.pid, initPid: rec.initPid }, (ev) =>
      this.onZoneEvent(name, ev),
    );
    const setup: HostSetup = { network: rec.network as HostSetup['network'], warnings: [], ...(cgroup ? { cgroup } : {}) };
    const lease = await currentLease(this.opts, name);
    if (lease && rec.network === 'zone') setup.lease = lease;
    this.adopt(name, handle, setup, new Date(rec.startedAt));
    this.log(`zone ${name}: re-attached (init pid ${rec.initPid})`);
  }

  /** Stop serving (daemon exit). With haltZones, every zone is halted first; otherwise they wait for the next daemon. */
  async close(o: { haltZones?: boolean } = {}): Promise<void> {
    this.closed = true;
    for (const name of [...this.pendingRestart.keys()]) this.cancelRestart(name);
    if (o.haltZones) {
      await Promise.all([...this.zones.values()].map((z) => this.stop(z, undefined).catch(() => undefined)));
    }
  }

  runningNames(): string[] {
    return [...this.zones.keys()];
  }
}

/** A zone's counters: its first process's supervisor entry, and those of the processes exec'd into it. */
function zoneCounters(z: ManagedZone): ZoneStats {
  let sum = addStats(z.handle.session.counters(), z.execStats);
  for (const e of z.execs) sum = addStats(sum, e.session.counters());
  return sum;
}

/** What a zone runs on, in a word: its image archive, its root directory, or the host's root. */
function imageOf(cfg: ZoneConfig): string {
  const r = cfg.rootfs;
  if (r.type === 'image') return r.ref ? `${r.path} (${r.ref})` : r.path;
  if (r.type === 'dir') return r.path;
  if (r.type === 'store') return r.ref;
  return r.copyOnWrite ? 'host (copy-on-write)' : 'host';
}
