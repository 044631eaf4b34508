// One running zone as the daemon sees it, whether it started the zone itself
// (startZone: the keeper is its child) or took it back after a restart
// (re-attach through the keeper's socket: the keeper is nobody's child here,
// and the zone's end is known from the keeper's exit message and the control
// socket closing). Either way its supervision is a ZoneSession (session.ts):
// signals, counters, a changed memory cap for sysinfo; `ended` is its end.
import type { AttachOptions } from '../../native.js';
import type { ZoneEvent } from '../events.js';
import type { RunningZone } from '../run.js';
import { ZoneSession, type ZoneEnd } from '../session.js';

export type { ZoneEnd } from '../session.js';

export interface ZoneHandle {
  readonly keeperPid: number;
  readonly initPid: number;
  readonly session: ZoneSession;
  signal(sig: NodeJS.Signals | number): void;
  readonly ended: Promise<ZoneEnd>;
}

/** A zone started here; `ended` is from zone.wait(). */
export function startedHandle(zone: RunningZone, initPid: number, ended: Promise<ZoneEnd>): ZoneHandle {
  return { keeperPid: zone.keeperPid, initPid, session: zone.session, signal: (sig) => zone.kill(sig), ended };
}

/**
 * Takes a running zone back through its keeper's re-attach socket. The zone's
 * notified syscalls, waiting since the old daemon went away, are answered from
 * here on (emulate:js calls with ENOSYS: a daemon zone has no TypeScript
 * handlers). Throws if the keeper cannot be reached.
 */
export function reattachHandle(
  socketPath: string,
  options: AttachOptions,
  ids: { keeperPid: number; initPid: number },
  onEvent?: (ev: ZoneEvent) => void,
): ZoneHandle {
  const session = new ZoneSession(options, onEvent ? { onEvent } : {}).reattach(socketPath);
  return {
    keeperPid: ids.keeperPid,
    initPid: ids.initPid,
    session,
    signal: (sig) => session.signal(sig),
    ended: session.closed.then(() => session.end()),
  };
}
