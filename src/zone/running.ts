// What a started zone is to its starter (run.ts) and to what restarts it
// (run-restarts.ts): types only, so that neither imports the other.
import type { ZoneSession } from './session.js';
import type { ZoneStats } from './stats.js';

export interface RunResult {
  exitCode: number;
  /** The signal that ended the binary, when one did. */
  signal?: string;
  stdout?: Buffer;
  stderr?: Buffer;
  /** The zone asked to halt (reboot(2) HALT / POWER_OFF) or restart. */
  reboot?: 'halt' | 'restart';
  /** runZone / lxzone run: how many times the zone was restarted in a row (reboot(2)). */
  restarts?: number;
  /** Set when the restart limit ended a series of restarts (why; the zone is not run again). */
  restartLimit?: string;
  stats: ZoneStats;
  unsupported: { abi: string; nr: number }[];
}

export interface RunningZone {
  /** Host pid of the keeper (the shim process). */
  readonly keeperPid: number;
  /** Host pid of the zone's init, once created. */
  readonly initPid: Promise<number>;
  /** Its supervision here (counters, memory cap for sysinfo): session.ts. */
  readonly session: ZoneSession;
  /** Sends a signal to the zone's init (forwarded by the keeper). */
  kill(signal?: NodeJS.Signals | number): void;
  wait(): Promise<RunResult>;
  /**
   * Stops serving the zone's notified syscalls from this process, for
   * another supervisor to take over through the keeper's re-attach socket
   * (`reattachSocket`, required). They wait in the kernel meanwhile, for at
   * most the keeper's re-attach timeout. `wait()` still reports the exit
   * (the keeper is our child); its stats stop at the hand-over.
   */
  handOff(): void;
  /** After handOff(): serves the zone from this process again (the other supervisor did not take it). */
  takeBack(): void;
}
