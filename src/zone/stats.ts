// The counters of a zone's notified syscalls, as TypeScript sees them: from
// the supervisor's native rows, and summed when one zone was served by more
// than one supervisor entry (its first process and the processes exec'd
// into it, or a zone handed from one supervisor to another).
import type { NativeCounters } from '../native.js';

export interface SyscallCount {
  abi: string;
  nr: number;
  count: number;
}

export interface ZoneStats {
  notified: SyscallCount[];
  unsupported: SyscallCount[];
  handlerErrors: number;
  jsTimeouts: number;
}

export function emptyStats(): ZoneStats {
  return { notified: [], unsupported: [], handlerErrors: 0, jsTimeouts: 0 };
}

/** The supervisor's counters of a zone (none: a zone it no longer serves). */
export function statsOf(c: NativeCounters | null | undefined): ZoneStats {
  if (!c) return emptyStats();
  const rows = (r: [string, number, number][]) => r.map(([abi, nr, count]) => ({ abi, nr, count }));
  return { notified: rows(c.notified), unsupported: rows(c.unsupported), handlerErrors: c.handlerErrors, jsTimeouts: c.jsTimeouts };
}

function addRows(a: SyscallCount[], b: SyscallCount[]): SyscallCount[] {
  const sum = new Map<string, SyscallCount>();
  for (const r of [...a, ...b]) {
    const key = `${r.abi}:${r.nr}`;
    const have = sum.get(key);
    if (have) have.count += r.count;
    else sum.set(key, { ...r });
  }
  // Code-point order: localeCompare's first call loads ICU's collator (tens of ms at the end of every `lxzone run`).
  return [...sum.values()].sort((x, y) => (x.abi < y.abi ? -1 : x.abi > y.abi ? 1 : x.nr - y.nr));
}

export function addStats(a: ZoneStats, b: ZoneStats): ZoneStats {
  return {
    notified: addRows(a.notified, b.notified),
    unsupported: addRows(a.unsupported, b.unsupported),
    handlerErrors: a.handlerErrors + b.handlerErrors,
    jsTimeouts: a.jsTimeouts + b.jsTimeouts,
  };
}
