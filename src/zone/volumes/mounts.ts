// A zone's volumes (ZoneConfig.volumes) as the binds its boot mounts: each
// volume made if it does not exist (as dockerd makes one `docker run -v
// NAME:/p` names), seeded from the image's content at its path while no zone
// has ever had it (dockerd copies an image's files into an empty volume),
// and mounted id-mapped onto the zone's ids (rootless: as it is, the user's
// own files).
import { join } from 'node:path';
import type { BindMount, VolumeMount } from '../config/types.js';
import { layersHave, seedFromLayers } from '../image/store/volumes.js';
import { zoneIdCount } from '../subids.js';
import type { VolumeStore } from './store.js';

export interface VolumeBindOptions {
  /** The image store zone's layers, lowest first (seeding); absent: nothing to seed from. */
  layers?: string[];
  /** Rootless: no id mapping (the user's zones' root is the user's own uid). */
  rootless: boolean;
}

export function volumeBinds(store: VolumeStore, volumes: VolumeMount[] | undefined, opts: VolumeBindOptions): BindMount[] {
  const count = zoneIdCount();
  // Volume files keep zone ids as they are: the layers' ids, which are too (ids past the range: nobody).
  const canonical = opts.rootless ? (id: number) => id : (id: number) => (id < count ? id : 65534);
  return (volumes ?? []).map((v) => {
    store.create(v.name, v.anonymous ? { anonymous: true } : {});
    const data = store.dataDir(v.name);
    const rec = store.get(v.name);
    if (rec && !rec.used) {
      if (opts.layers && layersHave(opts.layers, v.zone)) seedFromLayers(opts.layers, v.zone, join(store.dir, v.name), data, canonical);
      store.markUsed(v.name);
    }
    return { host: data, zone: v.zone, readOnly: v.readOnly, lxzoneOwn: true, ...(opts.rootless ? {} : { idmap: true as const }) };
  });
}

/** Mounts in the order they can nest: a parent before what goes under it (dockerd sorts them so too). */
export function byDepth<T extends { zone: string }>(mounts: T[]): T[] {
  const depth = (p: string): number => p.split('/').filter(Boolean).length;
  return mounts.map((m, i) => ({ m, i })).sort((a, b) => depth(a.m.zone) - depth(b.m.zone) || a.i - b.i).map((x) => x.m);
}
