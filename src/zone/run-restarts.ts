// The one-shot runner's restarts (lxzone run, runZone): a zone that asks to
// restart (reboot(2) RESTART) is run again, within the daemon's bounds
// (lifecycle/restart.ts): a series of short runs backs off, and after
// RESTART_BURST restarts in a row it is not run again; the result says so.
// Without them `lxzone run -- busybox reboot -f` spun for ten minutes, every
// round a full zone set-up (issue 14.8).
import { setTimeout as sleep } from 'node:timers/promises';
import { RESTART_BURST, RESTART_SERIES_RESET_MS, restartDelayMs, restartLimitReason } from './lifecycle/restart.js';
import type { RunningZone, RunResult } from './running.js';

export interface RestartingRun {
  /** The last run's result; `restartLimit` set when the burst limit ended the series. */
  readonly result: Promise<RunResult>;
  /** The zone now running (none while backing off). */
  current(): RunningZone | undefined;
  /** No more restarts: a pending back-off ends, and the result is the last run's. */
  stop(): void;
}

export function runWithRestarts(start: () => RunningZone): RestartingRun {
  let running: RunningZone | undefined;
  let stopped = false;
  const backOff = new AbortController();
  const loop = async (): Promise<RunResult> => {
    let n = 0;
    for (;;) {
      const startedAt = Date.now();
      running = start();
      const r = await running.wait();
      running = undefined;
      if (r.reboot !== 'restart' || stopped) return n ? { ...r, restarts: n } : r;
      if (Date.now() - startedAt >= RESTART_SERIES_RESET_MS) n = 0;
      if (n >= RESTART_BURST) return { ...r, restarts: n, restartLimit: restartLimitReason(n) };
      try {
        await sleep(restartDelayMs(n, { reboot: true }), undefined, { signal: backOff.signal });
      } catch {
        return { ...r, restarts: n }; // stopped while backing off
      }
      n++;
    }
  };
  return {
    result: loop(),
    current: () => running,
    stop() {
      stopped = true;
      backOff.abort();
    },
  };
}
