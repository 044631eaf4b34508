// One running zone's supervision, whoever hosts it: a one-shot run or a
// daemon's boot (attach: the keeper is our child and hands us its control
// socket), a restarted daemon taking a zone back or serving a process
// exec'd into it (re-attach through the keeper's socket), and an exec's
// hand-over to the daemon (detach, and re-attach if the daemon did not take
// it). The session turns the supervisor's events into what the zone did —
// its init pid, a failed set-up or exec, its exit, a reboot(2), the syscalls
// it lacked — answers emulate:js calls, relays signals and memory caps, and
// keeps the zone's counters across every supervisor entry it had.
import { constants as osConstants } from 'node:os';
import { LxzoneError, errnoName } from '../errors.js';
import { ControlType, type AttachOptions } from '../native.js';
import { hostAbis, loadTable } from '../tables/index.js';
import type { ZoneEvent } from './events.js';
import type { JsCall, ZoneHosting } from './spec.js';
import { addStats, statsOf, type ZoneStats } from './stats.js';
import { supervisor } from './supervisor.js';
import { formatTraceEvent } from './trace-format.js';

/** How a zone ended, as its host reports it. */
export interface ZoneEnd {
  exitCode: number;
  signal?: string;
  /** reboot(2) from inside the zone: RESTART or HALT/POWER_OFF. */
  reboot?: 'halt' | 'restart';
  /** The zone never ran (setup or exec failed), or the keeper was killed. */
  error?: string;
}

export function signalNumber(sig: NodeJS.Signals | number): number {
  if (typeof sig === 'number') return sig;
  const n = (osConstants.signals as Record<string, number>)[sig];
  if (n === undefined) throw new LxzoneError(`unknown signal ${sig}`, { exitCode: 2 });
  return n;
}

export function signalName(n: number): string | undefined {
  return Object.entries(osConstants.signals).find(([, v]) => v === n)?.[0];
}

/** A keeper's exit status (128+N for a signal) and the zone's reboot(2): the zone's end (a halt is a clean exit). */
export function endOf(exitCode: number, reboot: 'halt' | 'restart' | undefined): ZoneEnd {
  const end: ZoneEnd = { exitCode };
  if (exitCode > 128 && exitCode < 128 + 65) {
    const s = signalName(exitCode - 128);
    if (s) end.signal = s;
  }
  if (reboot) end.reboot = reboot;
  if (reboot === 'halt') end.exitCode = 0;
  return end;
}

/** What the host hears of the zone: ZoneHosting's callbacks, and the binary an exec failure names. */
export type SessionHooks = Pick<ZoneHosting, 'onCreated' | 'onEvent' | 'onTrace' | 'jsHandlers'> & {
  /** What an exec failure names when the keeper does not say (the zone's argv[0]). */
  binary?: string;
};

export class ZoneSession {
  private readonly sup = supervisor();
  private zoneId = -1;
  private attached = false;
  /** What earlier supervisor entries of this zone counted (before a hand-over, or up to the close). */
  private earlier: ZoneStats | undefined;
  private closedResolve!: () => void;
  private resolveInit!: (pid: number) => void;
  private rejectInit!: (err: Error) => void;

  /** Resolves when the supervisor entry ends: the keeper closed its socket, or this process handed the zone over. */
  closed: Promise<void> = Promise.resolve();
  /** The host pid of the zone's init, once the keeper reports it created. */
  readonly initPid: Promise<number>;
  /** The zone's exit status as its keeper reported it (the 'exited' event). */
  exitCode: number | undefined;
  reboot: 'halt' | 'restart' | undefined;
  /** Why the zone never ran (setup, exec, or the host's own setup failed). */
  failure: LxzoneError | undefined;
  readonly unsupported: { abi: string; nr: number }[] = [];

  constructor(
    private readonly options: AttachOptions,
    private readonly hooks: SessionHooks = {},
  ) {
    this.initPid = new Promise<number>((res, rej) => {
      this.resolveInit = res;
      this.rejectInit = rej;
    });
    this.initPid.catch(() => undefined);
  }

  /** Serves the zone whose keeper holds the other end of `controlFd` (ownership passes to the supervisor). */
  attach(controlFd: number): this {
    return this.begin(() => this.sup.attach(controlFd, this.options, (ev) => this.onEvent(ev)));
  }

  /** Takes the zone back through its keeper's re-attach socket; throws if the keeper cannot be reached. */
  reattach(socketPath: string): this {
    return this.begin(() => this.sup.reattach(socketPath, this.options, (ev) => this.onEvent(ev)));
  }

  get isAttached(): boolean {
    return this.attached;
  }

  /**
   * Stops serving the zone from this process: its counters are kept, and
   * `closed` resolves. Another supervisor may take it over meanwhile (its
   * notified syscalls wait in the kernel for at most the keeper's re-attach
   * timeout); reattach() serves it here again.
   */
  detach(): void {
    if (!this.attached) return;
    this.earlier = this.counters();
    this.sup.detach(this.zoneId);
    this.attached = false;
    this.closedResolve();
  }

  /** Sends a signal to the zone's init (the keeper forwards it). */
  signal(sig: NodeJS.Signals | number): void {
    const n = signalNumber(sig);
    if (!this.attached) throw new LxzoneError('the zone is not served by this process', { code: 'ESRCH' });
    this.sup.raw.send(this.zoneId, ControlType.signal, n);
  }

  /** The zone's counters over every supervisor entry it had here. */
  counters(): ZoneStats {
    if (!this.attached) return this.earlier ?? statsOf(null);
    const live = statsOf(this.sup.raw.counters(this.zoneId));
    return this.earlier ? addStats(this.earlier, live) : live;
  }

  /** A changed memory cap (and usage file) for the zone's sysinfo(2) view. */
  updateMemory(limit: number, usageFile?: string): void {
    if (this.attached) this.sup.raw.updateMemory(this.zoneId, limit, usageFile);
  }

  /** The zone's end from its keeper's exit message (a keeper gone without one is an error). */
  end(): ZoneEnd {
    const end = endOf(this.exitCode ?? 125, this.reboot);
    if (this.exitCode === undefined) end.error = "the zone's keeper went away without reporting an exit";
    return end;
  }

  /** The zone will not start any more (its keeper has exited): waiters on initPid are told so. */
  settle(): void {
    this.rejectInit(new LxzoneError('the zone never started'));
  }

  private begin(connect: () => number): this {
    if (this.attached) return this;
    this.closed = new Promise<void>((res) => (this.closedResolve = res));
    this.zoneId = connect();
    this.attached = true;
    return this;
  }

  private onEvent(ev: ZoneEvent): void {
    this.hooks.onEvent?.(ev);
    switch (ev.type) {
      case 'created':
        this.resolveInit(ev.initPid);
        if (this.hooks.onCreated) this.placeCreated(ev.zone, ev.initPid, this.hooks.onCreated);
        break;
      case 'setup-failed':
        this.failure ??= new LxzoneError(`zone setup failed: ${ev.step ?? errnoName(ev.errno)}`, { errno: ev.errno || undefined, exitCode: 125 });
        break;
      case 'exec-failed': {
        const code = errnoName(ev.errno);
        const why = code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : code;
        this.failure = new LxzoneError(`cannot run ${ev.path ?? this.hooks.binary} in the zone: ${why} (${code})`, {
          errno: ev.errno,
          exitCode: code === 'ENOENT' ? 127 : 126,
        });
        break;
      }
      case 'exited':
        this.exitCode = ev.exitCode;
        break;
      case 'unsupported':
        this.unsupported.push({ abi: ev.abi, nr: ev.nr });
        break;
      case 'trace':
        this.hooks.onTrace?.(formatTraceEvent(ev), ev);
        break;
      case 'reboot':
        this.reboot = ev.action;
        break;
      case 'js-call':
        this.answerJsCall(ev);
        break;
      case 'closed':
        // Every control message is read before the supervisor sees the socket close.
        this.detach();
        break;
      default:
        break;
    }
  }

  /** The host's setup between creation and start (cgroups, network): the zone waits for it, and is aborted if it fails. */
  private placeCreated(zoneId: number, initPid: number, onCreated: NonNullable<SessionHooks['onCreated']>): void {
    Promise.resolve()
      .then(() => onCreated(initPid))
      .then(
        () => this.sup.raw.send(zoneId, ControlType.continue),
        (err: unknown) => {
          this.failure = new LxzoneError(`zone setup failed on the host: ${(err as Error).message}`, { exitCode: 125, cause: err });
          this.sup.raw.send(zoneId, ControlType.abort);
        },
      );
  }

  private answerJsCall(ev: Extract<ZoneEvent, { type: 'js-call' }>): void {
    const zoneId = ev.zone; // the entry the call came through, even if the zone has been handed over since
    const reply = (value: number): void => {
      if (value < 0) this.sup.raw.respond(zoneId, ev.id, 0, -value);
      else this.sup.raw.respond(zoneId, ev.id, value, 0);
    };
    const name = this.hooks.jsHandlers ? nameOf(ev.abi, ev.nr) : undefined;
    const handler = name ? this.hooks.jsHandlers?.[name] : undefined;
    if (!handler) return reply(-38); // ENOSYS
    const call: JsCall = { pid: ev.pid, abi: ev.abi, nr: ev.nr, args: ev.args };
    Promise.resolve()
      .then(() => handler(call))
      .then(reply, (err: unknown) => reply(-((err as { errno?: number }).errno ?? 38)));
  }
}

let nameCache: Map<string, Map<number, string>> | undefined;
function nameOf(abi: string, nr: number): string | undefined {
  nameCache ??= new Map();
  let m = nameCache.get(abi);
  if (!m) {
    m = new Map();
    for (const a of hostAbis()) if (a === abi) for (const sc of loadTable(a).syscalls) m.set(sc.nr, sc.name);
    nameCache.set(abi, m);
  }
  return m.get(nr);
}
