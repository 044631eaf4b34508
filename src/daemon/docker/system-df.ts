// `docker system df`: what the images, containers and volumes take, as
// dockerd's /system/df answers it. Images: the store's, their size the
// compressed layers' (as `docker images` shows them), Containers: how many
// containers use each. A container's SizeRw is what its zone's disk file
// holds on the host (its allocated blocks: the writable layer over the
// image, and its volumes kept on that disk); a container without a disk
// (the host's root, a rootless zone) shows 0. Volumes: their size (lstat,
// never following a link a zone planted) and how many zones name them. No
// build cache (lxzone does not build).
import { lstatSync } from 'node:fs';
import { VolumeStore } from '../../zone/volumes/store.js';
import { volumesByZone } from '../../zone/volumes/users.js';
import type { DockerBackend } from './backend.js';
import type { Route } from './router.js';
import { volumeView } from './volumes.js';

/** The bytes a file takes on the host's disk (0 when it is not there). */
function allocated(path: string): number {
  try {
    return lstatSync(path).blocks * 512;
  } catch {
    return 0;
  }
}

/** `summaries`: the containers as `docker ps -a` lists them. */
export function systemDfRoute(b: DockerBackend, summaries: () => Promise<{ Id: string; zone: string; summary: object }[]>): Route {
  return {
    method: 'GET',
    path: '/system/df',
    doc: 'system df: images (sizes of their compressed layers, containers using each), containers (SizeRw: the blocks their zone\'s disk file takes on the host), volumes (size, how many containers name each); no build cache',
    handler: async () => {
      const images = b.images.summaries() as { Id: string; Size: number }[];
      const containers = (await summaries()).map(({ zone, summary }) => {
        const rw = allocated(b.opts.store.paths(zone).diskImage);
        return { ...summary, SizeRw: rw, SizeRootFs: rw };
      });
      const vs = new VolumeStore(b.opts.store.stateDir);
      const refs = new Map<string, number>();
      for (const vols of volumesByZone(b.opts.store).values()) for (const n of new Set(vols)) refs.set(n, (refs.get(n) ?? 0) + 1);
      const volumes = vs.list().map((v) => volumeView(vs, v, { refs: refs.get(v.name) ?? 0 }));
      return {
        LayersSize: images.reduce((sum, i) => sum + Math.max(0, i.Size), 0),
        Images: images,
        Containers: containers,
        Volumes: volumes,
        BuildCache: [],
      };
    },
  };
}
