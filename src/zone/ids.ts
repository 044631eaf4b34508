// Host id ranges for zones. Each zone's ids 0..N-1 (N = zoneIdCount(),
// 65536 unless LXZONE_ZONE_IDS says more) map to a range of host ids of its
// own, so that zones side by side never share file ownership or per-user
// limits. Ranges are cut from the ids delegated to lxzone in /etc/subuid and
// /etc/subgid (subids.ts): range N starts at the delegation's start + N * the
// zone's count; a fifth of them (from slot 1) are for created zones, the rest
// for one-shot zones, which claim one for as long as they run (a claim file
// naming the holder by pid + start time, so a crashed holder's claim is
// reclaimed). A created zone keeps its range from create to destroy (a claim
// file naming the zone, recorded in zones/<name>/ids.json), so an image
// unpacked for it keeps owners the zone can use at every boot.
import { mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { LxzoneError } from '../errors.js';
import { defaultPaths, ensurePrivateDir } from './state/paths.js';
import { writeFileAtomic } from './state/atomic.js';
import { isAlive, processIdentity } from './state/proc.js';
import type { ZoneStore } from './state/store.js';
import { DELEGATION_SIZE, lxzoneDelegation, zoneIdCount } from './subids.js';

/** How many ranges the delegation holds, and which are for created zones and which for one-shot ones. */
export function slotLayout(): { persistent: { first: number; count: number }; transient: { first: number; count: number } } {
  const slots = Math.floor(DELEGATION_SIZE / zoneIdCount());
  const split = Math.floor(slots / 5);
  return { persistent: { first: 1, count: split - 1 }, transient: { first: split, count: slots - split } };
}

export function idBaseOfSlot(slot: number): number {
  return lxzoneDelegation().start + slot * zoneIdCount();
}

/** Slot 0: the range of a zone given no other (an API caller's, an image unpacked without one). */
export function defaultIdBase(): number {
  return idBaseOfSlot(0);
}

export interface IdClaim {
  idBase: number;
  release(): void;
  /** The range is held by another process from now on (lxzone-runc: the container's keeper outlives its creator). */
  handOver(holder: { pid: number; startTime: number; bootId: string }): void;
}

/** The directory of one-shot claims (made private if missing): the native front end claims there too (docs/parts/fast-run.md). */
export function transientClaimDir(runtimeDir = defaultPaths().runtimeDir): string {
  return claimDir(runtimeDir);
}

function claimDir(runtimeDir: string): string {
  ensurePrivateDir(runtimeDir);
  const dir = join(runtimeDir, 'ids');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

function holderIsGone(path: string): boolean {
  try {
    const holder = JSON.parse(readFileSync(path, 'utf8')) as { pid: number; startTime: number; bootId?: string };
    return !isAlive(holder);
  } catch {
    return true; // unreadable: a writer died before it finished
  }
}

/**
 * A range is free once its holder and every sharer are gone (lxzone-runc: a
 * pod's containers share their sandbox's range, `<slot>.<n>` files, and may
 * outlive it). The sharers' files that name dead processes are removed on the way.
 */
function claimIsStale(path: string): boolean {
  if (!holderIsGone(path)) return false;
  const dir = dirname(path);
  const prefix = `${basename(path)}.`;
  let stale = true;
  for (const f of readdirSync(dir)) {
    if (!f.startsWith(prefix)) continue;
    if (!holderIsGone(join(dir, f))) stale = false;
    else rmSync(join(dir, f), { force: true });
  }
  return stale;
}

/**
 * Shares the one-shot range at `idBase`, claimed by a running zone, for as
 * long as this process (then the holder it is handed over to) lives: a pod's
 * containers share their sandbox's user namespace and range, and the range
 * must not be handed to another zone while any of them runs.
 */
export function shareTransientIdRange(idBase: number, runtimeDir = defaultPaths().runtimeDir): IdClaim {
  const slot = (idBase - lxzoneDelegation().start) / zoneIdCount();
  const dir = claimDir(runtimeDir);
  const notHeld = (): LxzoneError => new LxzoneError(`host id range ${idBase} is not held by a running zone: nothing to share`, { code: 'ESRCH', exitCode: 125 });
  if (!Number.isInteger(slot) || slot < slotLayout().transient.first) throw notHeld();
  identityCache ??= JSON.stringify(processIdentity());
  const path = join(dir, `${slot}.${process.pid}-${Date.now()}`);
  // Written before the holder is checked: a reclaim that starts now sees this sharer alive.
  writeFileAtomic(path, identityCache, 0o600, false, false);
  if (holderIsGone(join(dir, String(slot)))) {
    rmSync(path, { force: true });
    throw notHeld();
  }
  let released = false;
  return {
    idBase,
    handOver(holder) {
      writeFileAtomic(path, JSON.stringify(holder), 0o600, false, false);
      released = true;
    },
    release() {
      if (released) return;
      released = true;
      rmSync(path, { force: true });
    },
  };
}

// Where this process looks next: after its last claim, so that a launcher
// starting many zones probes each slot about once (not the k held ones for
// the k-th zone). Starts at a pid-derived slot so concurrent launchers rarely meet.
let nextSlot = process.pid;
let identityCache: string | undefined;

/** Claims a free host id range for a one-shot zone; release it when the zone has exited. */
/** The one-shot slot whose range starts at `idBase`, if it is one. */
export function transientSlotAt(idBase: number): number | undefined {
  const { first, count } = slotLayout().transient;
  const offset = idBase - lxzoneDelegation().start;
  if (offset % zoneIdCount() !== 0) return undefined;
  const slot = offset / zoneIdCount();
  return slot >= first && slot < first + count ? slot : undefined;
}

/** `wanted`: that one slot only (lxzone-runc's linux.uidMappings naming a range), failing if it is held. */
export function claimTransientIdRange(runtimeDir = defaultPaths().runtimeDir, wanted?: number): IdClaim {
  const dir = claimDir(runtimeDir);
  identityCache ??= JSON.stringify(processIdentity());
  const identity = identityCache;
  const TRANSIENT_SLOTS = slotLayout().transient;
  const start = wanted === undefined ? nextSlot % TRANSIENT_SLOTS.count : wanted - TRANSIENT_SLOTS.first;
  for (let i = 0; i < (wanted === undefined ? TRANSIENT_SLOTS.count : 1); i++) {
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
      handOver(holder) {
        writeFileAtomic(path, JSON.stringify(holder), 0o600, false, false);
        released = true;
      },
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
  if (wanted !== undefined) throw new LxzoneError(`the host id range at ${idBaseOfSlot(wanted)} is held by another zone`, { code: 'EBUSY', exitCode: 125 });
  throw new LxzoneError(`no free host id range for a zone (${TRANSIENT_SLOTS.count} one-shot zones running?)`, { code: 'EAGAIN', exitCode: 125 });
}

/**
 * Drops the claim on the range at `idBase` once its holder is gone
 * (lxzone-runc delete: the container's keeper held it). A claim of a live
 * process is left alone.
 */
export function releaseTransientIdRange(idBase: number, runtimeDir = defaultPaths().runtimeDir): void {
  const slot = (idBase - lxzoneDelegation().start) / zoneIdCount();
  if (!Number.isInteger(slot) || slot < slotLayout().transient.first) return;
  const path = join(runtimeDir, 'ids', String(slot));
  try {
    if (claimIsStale(path)) unlinkSync(path);
  } catch {
    /* no claim there: nothing to release */
  }
}

/** Slots of claims currently held (for tests and diagnostics). */
export function heldTransientSlots(runtimeDir = defaultPaths().runtimeDir): number[] {
  try {
    return readdirSync(join(runtimeDir, 'ids')).filter((f) => /^\d+$/.test(f)).map(Number);
  } catch {
    return [];
  }
}

// ---- created zones: a range from create to destroy --------------------------

export interface ZoneIds {
  slot: number;
  idBase: number;
}

function zoneClaimDir(store: ZoneStore): string {
  const dir = join(store.stateDir, 'ids');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

function recordFile(store: ZoneStore, name: string): string {
  return join(store.paths(name).zoneDir, 'ids.json');
}

/** The zone's id range, if it has one. */
export function zoneIds(store: ZoneStore, name: string): ZoneIds | undefined {
  try {
    const v = JSON.parse(readFileSync(recordFile(store, name), 'utf8')) as ZoneIds;
    if (Number.isInteger(v.slot) && v.idBase === idBaseOfSlot(v.slot)) return v;
  } catch {}
  return undefined;
}

/** The zone's id range, claiming a free one the first time. The zone directory must exist. */
export function ensureZoneIds(store: ZoneStore, name: string): ZoneIds {
  const have = zoneIds(store, name);
  if (have) return have;
  const dir = zoneClaimDir(store);
  const PERSISTENT_SLOTS = slotLayout().persistent;
  // Claims seen now: a taken slot is looked at (its owner read) rather than
  // tried, since each try writes and syncs a file (a create after N zones
  // made N syncs). A slot taken meanwhile still fails the exclusive link.
  const seen = new Set(readdirSync(dir));
  for (let i = 0; i < PERSISTENT_SLOTS.count; i++) {
    const slot = PERSISTENT_SLOTS.first + i;
    const claim = join(dir, String(slot));
    try {
      if (seen.has(String(slot))) throw new LxzoneError(`slot ${slot} is claimed`, { code: 'EEXIST' });
      writeFileAtomic(claim, `${name}\n`, 0o600, true);
    } catch (e) {
      if ((e as LxzoneError).code !== 'EEXIST') throw e;
      // A claim whose zone is gone (destroyed by hand) is free again.
      let owner = '';
      try {
        owner = readFileSync(claim, 'utf8').trim();
      } catch {}
      if (owner === name) {
        // ours from an interrupted create: keep it
      } else if (owner !== '' && !store.exists(owner)) {
        rmSync(claim, { force: true });
        seen.delete(String(slot));
        i--;
        continue;
      } else continue;
    }
    const ids = { slot, idBase: idBaseOfSlot(slot) };
    // Not synced: the claim is (its exclusive write syncs), and a record
    // lost in a crash is made again from it (the claim naming this zone is
    // kept above), never a second range.
    writeFileAtomic(recordFile(store, name), `${JSON.stringify(ids)}\n`, 0o600, false, false);
    return ids;
  }
  throw new LxzoneError(`no free host id range for zone ${name} (${slotLayout().persistent.count} zones exist)`, { code: 'EAGAIN' });
}

/** Gives the zone's range back (destroy). */
export function releaseZoneIds(store: ZoneStore, name: string): void {
  const ids = zoneIds(store, name);
  if (!ids) return;
  const claim = join(zoneClaimDir(store), String(ids.slot));
  try {
    if (readFileSync(claim, 'utf8').trim() === name) rmSync(claim, { force: true });
  } catch {}
}
