// Which zones use a volume: those whose configuration names it, running or
// not (a stopped zone mounts it again at its next boot). A volume is not
// removed while any does.
import type { ZoneStore } from '../state/store.js';

/** Zone name -> the volumes its configuration names, for every zone (one read of each config). */
export function volumesByZone(store: ZoneStore): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const z of store.list()) {
    try {
      out.set(z, (store.loadConfig(z).volumes ?? []).map((v) => v.name));
    } catch {
      // A config that cannot be read names no volume we can see (and its zone cannot boot).
    }
  }
  return out;
}

/** The zones whose configuration names `name`. */
export function zonesUsingVolume(store: ZoneStore, name: string): string[] {
  return [...volumesByZone(store)].filter(([, vols]) => vols.includes(name)).map(([z]) => z);
}
