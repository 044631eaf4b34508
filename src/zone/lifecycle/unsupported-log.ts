// The recent unsupported-syscall events of each zone the daemon serves (a
// syscall the profile answers with ENOSYS and reports: the supervisor sends
// one event per call), for `inspect` and the portal's zone page: which
// program asked for what, when, with which arguments. Bounded per zone (the
// newest RECENT are kept; a program that loops on a missing call must not
// grow the daemon) and kept across the zone's boots until it is destroyed or
// the daemon restarts; the counters (ZoneStats.unsupported) say how many.
import type { CallFields } from '../events.js';

export const RECENT = 50;

export interface UnsupportedEvent {
  /** ISO time the daemon received it. */
  at: string;
  pid: number;
  abi: string;
  nr: number;
  /** The call's arguments, hex (as strace shows pointers and flags). */
  args: string[];
}

export class UnsupportedLog {
  private readonly byZone = new Map<string, UnsupportedEvent[]>();

  add(zone: string, c: CallFields): void {
    const list = this.byZone.get(zone) ?? [];
    list.push({ at: new Date().toISOString(), pid: c.pid, abi: c.abi, nr: c.nr, args: c.args.map((a) => `0x${a.toString(16)}`) });
    if (list.length > RECENT) list.splice(0, list.length - RECENT);
    this.byZone.set(zone, list);
  }

  /** Newest first. */
  of(zone: string): UnsupportedEvent[] {
    return [...(this.byZone.get(zone) ?? [])].reverse();
  }

  forget(zone: string): void {
    this.byZone.delete(zone);
  }
}
