// Which zones use a volume: those whose configuration names it, running or
// not (a stopped zone mounts it again at its next boot). A volume is not
// removed while any does.
import { LxzoneError } from '../../errors.js';
import type { ZoneStore } from '../state/store.js';
import type { VolumeRecord, VolumeStore } from './store.js';

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

/** Every volume with its data directory and the zones that name it (`lxzone volume ls`). */
export function volumesWithUsers(zones: ZoneStore, volumes: VolumeStore): (VolumeRecord & { mountpoint: string; zones: string[] })[] {
  const users = volumesByZone(zones);
  return volumes.list().map((v) => ({ ...v, mountpoint: volumes.dataDir(v.name), zones: [...users].filter(([, vs]) => vs.includes(v.name)).map(([z]) => z) }));
}

/** Removes a volume and its files; refused, naming them, while any zone names it (`lxzone volume rm`). */
export function removeUnusedVolume(zones: ZoneStore, volumes: VolumeStore, name: string): void {
  if (!volumes.get(name)) throw new LxzoneError(`no such volume: ${name}`, { code: 'ENOENT', exitCode: 1 });
  const users = zonesUsingVolume(zones, name);
  if (users.length) throw new LxzoneError(`volume ${name} is in use by zones ${users.join(', ')}`, { code: 'EBUSY', exitCode: 1 });
  volumes.remove(name);
}
