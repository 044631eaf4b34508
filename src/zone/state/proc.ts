// Process identity that survives pid reuse: a pid alone names whatever process
// has that number now; (pid, start time in clock ticks since boot, boot id)
// names one process for the life of the host. Field 22 of /proc/PID/stat is
// the start time; /proc/sys/kernel/random/boot_id changes at every boot, so a
// record written before a reboot never matches a process after it.
//
// Pids are those of the pid namespace of the process reading /proc: the CLI
// and the daemon must share one (they do: both run on the host).
import { readFileSync } from 'node:fs';

export interface ProcessIdentity {
  pid: number;
  /** Clock ticks after boot at which the process started (/proc/PID/stat field 22). */
  startTime: number;
  /** /proc/sys/kernel/random/boot_id when the record was made. */
  bootId: string;
}

export interface ProcStat {
  pid: number;
  comm: string;
  /** R, S, D, Z, T, t, X, I… */
  state: string;
  ppid: number;
  startTime: number;
}

let cachedBootId: string | undefined;
export function bootId(): string {
  cachedBootId ??= readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  return cachedBootId;
}

/** Parse /proc/PID/stat; undefined when the process does not exist. The
 * command name may contain spaces and ')', so fields are counted from the
 * last ')'. */
export function readProcStat(pid: number): ProcStat | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return undefined;
    throw e;
  }
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const rest = text.slice(close + 2).split(' ');
  // rest[0] is field 3 (state), so field N is rest[N - 3].
  return {
    pid,
    comm: text.slice(open + 1, close),
    state: rest[0] as string,
    ppid: Number(rest[1]),
    startTime: Number(rest[19]),
  };
}

/** The identity of a live process (default: this one). Throws if it is gone. */
export function processIdentity(pid: number = process.pid): ProcessIdentity {
  const st = readProcStat(pid);
  if (!st) throw new Error(`process ${pid} does not exist`);
  return { pid, startTime: st.startTime, bootId: bootId() };
}

/**
 * Is the process a record names still running? False when the pid is gone,
 * reused by another process (different start time), left over from another
 * boot, or a zombie (it has exited; only its parent has yet to reap it).
 */
export function isAlive(record: { pid: number; startTime: number; bootId?: string }): boolean {
  if (record.bootId !== undefined && record.bootId !== bootId()) return false;
  const st = readProcStat(record.pid);
  if (!st) return false;
  if (st.state === 'Z' || st.state === 'X') return false;
  return st.startTime === record.startTime;
}
