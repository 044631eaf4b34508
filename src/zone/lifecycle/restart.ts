// Whether a zone that stopped is booted again, docker's rules:
//   no              never
//   on-failure[:N]  when it exited non-zero (at most N times in a row)
//   always          whenever it stops by itself
//   unless-stopped  the same; the difference is at daemon start (see manager)
// A zone stopped by `lxzone halt`/`destroy` or by reboot(2) HALT from inside
// stays stopped; reboot(2) RESTART always restarts it (that is what it asked).
import { parseRestartPolicy } from '../config/validate.js';
import type { ZoneEnd } from './handle.js';

export interface RestartDecision {
  restart: boolean;
  why: string;
}

export function decideRestart(policy: string, end: ZoneEnd, o: { haltedByUs: boolean; restartsInARow: number }): RestartDecision {
  if (o.haltedByUs) return { restart: false, why: 'halted' };
  if (end.reboot === 'restart') return { restart: true, why: 'reboot(2) RESTART from inside the zone' };
  if (end.reboot === 'halt') return { restart: false, why: 'reboot(2) HALT from inside the zone' };
  const p = parseRestartPolicy(policy);
  switch (p.kind) {
    case 'no':
      return { restart: false, why: 'restart policy no' };
    case 'always':
    case 'unless-stopped':
      return { restart: true, why: `restart policy ${p.kind}` };
    case 'on-failure': {
      if (end.exitCode === 0 && !end.error) return { restart: false, why: 'exited 0 (restart policy on-failure)' };
      if (p.maxRetries !== undefined && o.restartsInARow >= p.maxRetries) {
        return { restart: false, why: `restart policy on-failure:${p.maxRetries}: ${o.restartsInARow} restarts in a row` };
      }
      return { restart: true, why: `exit ${end.exitCode} (restart policy ${policy})` };
    }
  }
}

/** Delay before the n-th restart in a row: 100 ms doubling, at most 30 s (a crashing zone does not spin). */
export function restartDelayMs(restartsInARow: number): number {
  return Math.min(30_000, 100 * 2 ** Math.min(restartsInARow, 20));
}

/** A zone that ran this long before stopping starts a fresh series. */
export const RESTART_SERIES_RESET_MS = 10_000;
