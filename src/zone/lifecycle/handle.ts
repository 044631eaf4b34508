// One running zone as the daemon sees it, whether it started the zone itself
// (startZone: the keeper is its child) or took it back after a restart
// (re-attach through the keeper's socket: the keeper is nobody's child here,
// and the zone's end is known from the keeper's exit message and the control
// socket closing). Both give: signal the zone's init, the supervisor's
// counters, a changed memory cap for sysinfo, and a promise of the end.
import { constants as osConstants } from 'node:os';
import { LxzoneError } from '../../errors.js';
import { ControlType, type AttachOptions } from '../../native.js';
import type { ZoneEvent } from '../events.js';
import type { RunningZone } from '../run.js';
import { statsOf, type ZoneStats } from '../stats.js';
import { supervisor } from '../supervisor.js';

export interface ZoneEnd {
  exitCode: number;
  signal?: string;
  /** reboot(2) from inside the zone: RESTART or HALT/POWER_OFF. */
  reboot?: 'halt' | 'restart';
  /** The zone never ran (setup or exec failed), or the keeper was killed. */
  error?: string;
}

export interface ZoneHandle {
  readonly keeperPid: number;
  readonly initPid: number;
  signal(sig: NodeJS.Signals | number): void;
  counters(): ZoneStats | undefined;
  updateMemory(limit: number, usageFile?: string): void;
  readonly ended: Promise<ZoneEnd>;
}

export function signalNumber(sig: NodeJS.Signals | number): number {
  if (typeof sig === 'number') return sig;
  const n = (osConstants.signals as Record<string, number>)[sig];
  if (n === undefined) throw new LxzoneError(`unknown signal ${sig}`, { exitCode: 2 });
  return n;
}

function signalName(n: number): string | undefined {
  return Object.entries(osConstants.signals).find(([, v]) => v === n)?.[0];
}

function countersOf(zoneId: number | undefined): ZoneStats | undefined {
  const c = zoneId === undefined ? null : supervisor().raw.counters(zoneId);
  return c ? statsOf(c) : undefined;
}

/** A zone started here. `zoneId()` is the supervisor's id, learnt from the zone's first event; `ended` is from zone.wait(). */
export function startedHandle(zone: RunningZone, initPid: number, zoneId: () => number | undefined, ended: Promise<ZoneEnd>): ZoneHandle {
  return {
    keeperPid: zone.keeperPid,
    initPid,
    signal: (sig) => zone.kill(sig),
    counters: () => countersOf(zoneId()),
    updateMemory: (limit, file) => {
      const id = zoneId();
      if (id !== undefined) supervisor().raw.updateMemory(id, limit, file);
    },
    ended,
  };
}

/**
 * Takes a running zone back through its keeper's re-attach socket. The zone's
 * notified syscalls, waiting since the old daemon went away, are answered from
 * here on. Throws if the keeper cannot be reached.
 */
export function reattachHandle(
  socketPath: string,
  options: AttachOptions,
  ids: { keeperPid: number; initPid: number },
  onEvent?: (ev: ZoneEvent) => void,
): ZoneHandle {
  const sup = supervisor();
  let code: number | undefined;
  let reboot: 'halt' | 'restart' | undefined;
  let resolve!: (e: ZoneEnd) => void;
  const ended = new Promise<ZoneEnd>((r) => (resolve = r));
  let zoneId = -1;
  let final: ZoneStats | undefined;
  const listener = (ev: ZoneEvent): void => {
    onEvent?.(ev);
    switch (ev.type) {
      case 'exited':
        code = ev.exitCode;
        break;
      case 'reboot':
        reboot = ev.action;
        break;
      case 'js-call':
        sup.raw.respond(ev.zone, ev.id, 0, 38); // no TypeScript handlers for daemon zones: ENOSYS
        break;
      case 'closed': {
        final = countersOf(ev.zone); // what the zone was counted for, kept after the supervisor forgets it
        sup.detach(ev.zone);
        const end: ZoneEnd = { exitCode: code ?? 125 };
        if (code === undefined) end.error = "the zone's keeper went away without reporting an exit";
        if (code !== undefined && code > 128 && code < 128 + 65) {
          const s = signalName(code - 128);
          if (s) end.signal = s;
        }
        if (reboot) end.reboot = reboot;
        if (reboot === 'halt') end.exitCode = 0;
        resolve(end);
        break;
      }
      default:
        break;
    }
  };
  zoneId = sup.reattach(socketPath, options, listener);
  return {
    keeperPid: ids.keeperPid,
    initPid: ids.initPid,
    signal: (sig) => sup.raw.send(zoneId, ControlType.signal, signalNumber(sig)),
    counters: () => final ?? countersOf(zoneId),
    updateMemory: (limit, file) => sup.raw.updateMemory(zoneId, limit, file),
    ended,
  };
}
