// Waiting for a container to stop, as POST /containers/{id}/wait and --rm
// need it. A fast container may start and end between two looks, so an exit
// is recognised by its record changing (lastExit.at), not only by the state.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ZoneManager } from '../../zone/lifecycle/manager.js';

export async function waitForExit(
  manager: ZoneManager,
  zone: string,
  condition: 'not-running' | 'next-exit' | 'removed',
  signal: AbortSignal,
  o: { alreadyStarted?: boolean } = {},
): Promise<number> {
  const first = await manager.info(zone);
  const firstExit = o.alreadyStarted ? undefined : first.lastExit?.at;
  const stopped = (s: string) => s === 'stopped' || s === 'failed' || s === 'broken';
  if (condition === 'not-running' && stopped(first.state)) return first.lastExit?.exitCode ?? 0;
  // The last exit seen: a removed zone's record is gone with it.
  let lastCode = first.lastExit?.exitCode ?? 0;
  for (;;) {
    if (signal.aborted) return -1;
    let z;
    try {
      z = await manager.info(zone);
    } catch {
      return condition === 'removed' ? lastCode : -1;
    }
    if (z.lastExit) lastCode = z.lastExit.exitCode;
    if (condition === 'removed') {
      if (!manager.runningNames().includes(zone) && !(await exists(manager, zone))) return lastCode;
    } else if (z.lastExit && z.lastExit.at !== firstExit && z.state !== 'running' && z.state !== 'booting') {
      return z.lastExit.exitCode;
    }
    await sleep(100);
  }
}

async function exists(manager: ZoneManager, zone: string): Promise<boolean> {
  try {
    await manager.inspect(zone);
    return true;
  } catch {
    return false;
  }
}
