// Host id ranges for zones. Each zone's ids 0..65535 map to a range of host
// ids of its own, so that zones side by side never share file ownership or
// per-user limits. Range N starts at FIRST_ID_BASE + N * ZONE_ID_COUNT; a
// one-shot zone claims one for as long as it runs (a claim file naming the
// holder by pid + start time, so a crashed holder's claim is reclaimed).
import { mkdirSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { LxzoneError } from '../errors.js';
import { defaultPaths, ensurePrivateDir } from './state/paths.js';
import { writeFileAtomic } from './state/atomic.js';
import { isAlive, processIdentity } from './state/proc.js';

export const ZONE_ID_COUNT = 65536;
export const FIRST_ID_BASE = 100000;
/** Ranges reserved for one-shot zones (persistent zones record theirs in their config). */
const TRANSIENT_SLOTS = { first: 1024, count: 4096 };

export function idBaseOfSlot(slot: number): number {
  return FIRST_ID_BASE + slot * ZONE_ID_COUNT;
}

export interface IdClaim {
  idBase: number;
  release(): void;
}

function claimDir(runtimeDir: string): string {
  ensurePrivateDir(runtimeDir);
  const dir = join(runtimeDir, 'ids');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

function claimIsStale(path: string): boolean {
  try {
    const holder = JSON.parse(readFileSync(path, 'utf8')) as { pid: number; startTime: number; bootId?: string };
    return !isAlive(holder);
  } catch {
    return true; // unreadable: a writer died before it finished
  }
}

// Where this process looks next: after its last claim, so that a launcher
// starting many zones probes each slot about once (not the k held ones for
// the k-th zone). Starts at a pid-derived slot so concurrent launchers rarely meet.
let nextSlot = process.pid % TRANSIENT_SLOTS.count;
let identityCache: string | undefined;

/** Claims a free host id range for a one-shot zone; release it when the zone has exited. */
export function claimTransientIdRange(runtimeDir = defaultPaths().runtimeDir): IdClaim {
  const dir = claimDir(runtimeDir);
  identityCache ??= JSON.stringify(processIdentity());
  const identity = identityCache;
  const start = nextSlot;
  for (let i = 0; i < TRANSIENT_SLOTS.count; i++) {
    const slot = TRANSIENT_SLOTS.first + ((start + i) % TRANSIENT_SLOTS.count);
    const path = join(dir, String(slot));
    try {
      // Not durable: a claim names a running process, so after a host crash it is stale anyway.
      writeFileAtomic(path, identity, 0o600, true, false);
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST' || !claimIsStale(path)) continue;
      try {
        unlinkSync(path);
        writeFileAtomic(path, identity, 0o600, true, false);
      } catch {
        continue; // someone else reclaimed it first
      }
    }
    nextSlot = (slot - TRANSIENT_SLOTS.first + 1) % TRANSIENT_SLOTS.count;
    let released = false;
    return {
      idBase: idBaseOfSlot(slot),
      release() {
        if (released) return;
        released = true;
        try {
          unlinkSync(path);
        } catch {
          /* already gone */
        }
      },
    };
  }
  throw new LxzoneError(`no free host id range for a zone (${TRANSIENT_SLOTS.count} one-shot zones running?)`, { code: 'EAGAIN', exitCode: 125 });
}

/** Slots of claims currently held (for tests and diagnostics). */
export function heldTransientSlots(runtimeDir = defaultPaths().runtimeDir): number[] {
  try {
    return readdirSync(join(runtimeDir, 'ids')).filter((f) => /^\d+$/.test(f)).map(Number);
  } catch {
    return [];
  }
}
