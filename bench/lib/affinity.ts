// Pinning this whole process (every thread, the supervisor's included) to one
// CPU for a measurement, and restoring it after: zones spawned meanwhile
// inherit the pin, so tracee and supervisor share that CPU, as the two
// processes of the context-switch reference do. Uses util-linux taskset.
import { spawnSync } from 'node:child_process';
import { which } from './exec.js';

function taskset(args: string[]): string {
  const r = spawnSync('taskset', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`taskset ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

export function canPin(): boolean {
  return which('taskset') !== undefined;
}

/** Runs fn with every thread of this process pinned to `cpu`; the old mask comes back afterwards. */
export async function pinnedTo<T>(cpu: number, fn: () => Promise<T>): Promise<T> {
  const pid = String(process.pid);
  const old = /:\s*([0-9a-f,]+)\s*$/i.exec(taskset(['-p', pid]).trim())?.[1];
  if (!old) throw new Error('taskset: cannot read this process affinity');
  taskset(['-a', '-c', '-p', String(cpu), pid]);
  try {
    return await fn();
  } finally {
    taskset(['-a', '-p', old, pid]);
  }
}
