// A file naming a process of the store's (a run, a create, a pull or an
// import in progress) by its identity: pid, start time and boot id, so that
// a dead process's file counts no more, even after its pid is reused.
import { readFileSync, writeFileSync } from 'node:fs';
import { isAlive, processIdentity, type ProcessIdentity } from '../../state/proc.js';

/** Writes `file` naming this process, with `extra` fields beside its identity. */
export function writeLiveRecord(file: string, extra: Record<string, unknown> = {}): void {
  writeFileSync(file, JSON.stringify({ ...processIdentity(), ...extra }));
}

/** The record in `file` if the process it names is still alive. */
export function liveRecord(file: string): (ProcessIdentity & Record<string, unknown>) | undefined {
  try {
    const rec = JSON.parse(readFileSync(file, 'utf8')) as ProcessIdentity & Record<string, unknown>;
    return isAlive(rec) ? rec : undefined;
  } catch {
    return undefined; // unreadable or half-written: not a live process's
  }
}
