// Each persistent zone gets a host id range of its own for its whole life
// (create to destroy): its ids 0..65535 map to idBaseOfSlot(slot) + 0..65535,
// so two zones never share file ownership or per-user limits, and an image
// unpacked for the zone keeps owners the zone can use at every boot.
// The first fifth of the slots (from 1) are for persistent zones
// (src/zone/ids.ts: slotLayout; the rest for one-shot runs). A slot is claimed by an exclusive file <state>/ids/<slot>
// naming the zone, and recorded in zones/<name>/ids.json.
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LxzoneError } from '../../errors.js';
import { idBaseOfSlot, slotLayout } from '../ids.js';
import { writeFileAtomic } from '../state/atomic.js';
import type { ZoneStore } from '../state/store.js';


export interface ZoneIds {
  slot: number;
  idBase: number;
}

function claimDir(store: ZoneStore): string {
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
  const dir = claimDir(store);
  const PERSISTENT_SLOTS = slotLayout().persistent;
  for (let i = 0; i < PERSISTENT_SLOTS.count; i++) {
    const slot = PERSISTENT_SLOTS.first + i;
    const claim = join(dir, String(slot));
    try {
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
        i--;
        continue;
      } else continue;
    }
    const ids = { slot, idBase: idBaseOfSlot(slot) };
    writeFileAtomic(recordFile(store, name), `${JSON.stringify(ids)}\n`);
    return ids;
  }
  throw new LxzoneError(`no free host id range for zone ${name} (${slotLayout().persistent.count} zones exist)`, { code: 'EAGAIN' });
}

/** Gives the zone's range back (destroy). */
export function releaseZoneIds(store: ZoneStore, name: string): void {
  const ids = zoneIds(store, name);
  if (!ids) return;
  const claim = join(claimDir(store), String(ids.slot));
  try {
    if (readFileSync(claim, 'utf8').trim() === name) rmSync(claim, { force: true });
  } catch {}
}
