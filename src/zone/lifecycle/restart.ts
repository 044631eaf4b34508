// Whether a zone that stopped is booted again, docker's rules:
//   no              never
//   on-failure[:N]  when it exited non-zero (at most N times in a row)
//   always          whenever it stops by itself
//   unless-stopped  the same; the difference is at daemon start (see manager)
// A zone stopped by `lxzone halt`/`destroy` or by reboot(2) HALT from inside
// stays stopped; reboot(2) RESTART restarts it (that is what it asked).
//
// Restart storms (issue 14.8): a zone calling reboot(2) in a loop, or
// crashing at once, would be set up again and again (network, cgroups,
// mounts) for ever. So every policy and reboot(2) share one bound, as
// systemd's StartLimitBurst and Docker's restart delay: restarts whose runs
// each lasted under RESTART_SERIES_RESET_MS form a series; each waits twice
// as long as the one before (a reboot(2) that starts a series is honoured at
// once), and after RESTART_BURST of them the zone is left stopped, its state
// saying so, until someone boots it.
import { parseRestartPolicy } from '../config/validate.js';
import type { ZoneEnd } from '../session.js';

export interface RestartDecision {
  restart: boolean;
  why: string;
  /** Not restarted because of the burst limit (the zone is "failed"). */
  limited?: boolean;
}

/** At most this many restarts in a row (each run shorter than RESTART_SERIES_RESET_MS). */
export const RESTART_BURST = 5;

/** The reason a zone is left stopped after `n` quick restarts in a row. */
export function restartLimitReason(n: number): string {
  return `restart limit reached: ${n} restarts in a row, each run shorter than ${RESTART_SERIES_RESET_MS / 1000} s (reboot(2) or a crash in a loop)`;
}

export function decideRestart(policy: string, end: ZoneEnd, o: { haltedByUs: boolean; restartsInARow: number }): RestartDecision {
  const d = decideByPolicy(policy, end, o);
  if (d.restart && o.restartsInARow >= RESTART_BURST) return { restart: false, why: restartLimitReason(o.restartsInARow), limited: true };
  return d;
}

function decideByPolicy(policy: string, end: ZoneEnd, o: { haltedByUs: boolean; restartsInARow: number }): RestartDecision {
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

/**
 * Delay before a restart with `restartsInARow` before it in the series: 100 ms
 * doubling, at most 30 s (a crashing zone does not spin). A reboot(2) that
 * starts a series is what the zone asked for: at once; later ones back off.
 */
export function restartDelayMs(restartsInARow: number, o: { reboot?: boolean } = {}): number {
  if (o.reboot === true) return restartsInARow === 0 ? 0 : restartDelayMs(restartsInARow - 1);
  return Math.min(30_000, 100 * 2 ** Math.min(restartsInARow, 20));
}

/** A zone that ran this long before stopping starts a fresh series. */
export const RESTART_SERIES_RESET_MS = 10_000;
