// From a reference to what a zone of the image needs: its layer directories
// (unpacked once, shared), what the image declares (Env, Cmd, …), and a
// reader of files through the layers (the zone's /etc/passwd for a user
// name), for `run --image` and `create --image`. A missing image is pulled
// first, as `docker run` does.
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { LxzoneError } from '../../../errors.js';
import { readRootFile, type ZoneFileReader } from '../../config/user.js';
import type { ImageConfig } from '../manifests.js';
import { pullImage, type PullEvent } from '../registry/pull.js';
import type { ImageRecord, ImageStore } from './images.js';
import { parseImageRef } from './reference.js';
import { isOpaque, volumeDir } from './volumes.js';

export interface ZoneImage {
  record: ImageRecord;
  /** Host directories of the layers, lowest first. */
  layers: string[];
  config: ImageConfig;
  readFile: ZoneFileReader;
}

/**
 * A file of the merged image, looked up top layer first: a whiteout (or a
 * symlink on the way, which only the merged tree could resolve) ends the
 * search with nothing.
 */
export function layeredReader(layers: string[]): ZoneFileReader {
  return (rel) => {
    const parts = rel.split('/').filter(Boolean);
    for (let i = layers.length - 1; i >= 0; i--) {
      const layer = layers[i] as string;
      let cur = layer;
      let missing = false;
      for (let k = 0; k < parts.length; k++) {
        cur = join(cur, parts[k] as string);
        const st = lstatSync(cur, { throwIfNoEntry: false });
        if (!st) {
          missing = true;
          break;
        }
        if (st.isCharacterDevice() && st.rdev === 0) return undefined; // whited out
        if (st.isSymbolicLink()) return undefined;
        if (k === parts.length - 1) return st.isFile() ? readRootFile(layer, rel) : undefined;
        // An opaque directory hides the lower layers' content: the file is not there if not in this layer.
        if (st.isDirectory() && isOpaque(cur) && !lstatSync(join(layer, ...parts), { throwIfNoEntry: false })) return undefined;
      }
      if (!missing) return undefined;
    }
    return undefined;
  };
}

/** Why a zone of the image store needs root, said before anything is pulled. */
export function assertStoreZonesAllowed(ref: string): void {
  if (process.getuid?.() === 0) return;
  throw new LxzoneError(
    `image ${ref}: a zone of the image store needs root: the image's layers are unpacked once with their owners and overlayfs whiteout devices, and shared read-only by every zone through mounts id-mapped onto its ids (lxzone pull, images and image save work without root; for a rootless zone, unpack the image into it: lxzone image save ${ref} -o img.tar, then lxzone create NAME --image img.tar)`,
    { code: 'EPERM' },
  );
}

export async function zoneImage(store: ImageStore, ref: string, onPull?: (e: PullEvent) => void): Promise<ZoneImage> {
  assertStoreZonesAllowed(ref);
  let record = store.resolve(ref);
  if (!record) record = await pullImage(store, parseImageRef(ref), onPull ? { onEvent: onPull } : {});
  const layers = record.layers.map((l, i) => store.layers.unpack(l.digest, `image ${ref}: layer ${i}`).dir);
  return { record, layers, config: record.image, readFile: layeredReader(layers) };
}

/** What `lxzone inspect` shows of a store zone's image settings. */
export interface ZoneImageView {
  ref: string;
  digest: string;
  /** The image's ExposedPorts, each with where the host reaches it: the zone's own address (no host port is published). */
  exposedPorts: { port: string; address: string | null }[];
  /** The image's Volumes: the zone path and its directory on the zone's disk (made at first boot). */
  volumes: { path: string; host: string }[];
}

export function zoneImageView(store: ImageStore, rootfs: { ref: string; digest: string }, zoneDiskDir: string, ipv4: string | undefined): ZoneImageView | undefined {
  const rec = store.record(rootfs.digest);
  if (!rec) return undefined;
  return {
    ref: rootfs.ref,
    digest: rec.digest,
    exposedPorts: (rec.image.exposedPorts ?? []).map((port) => ({ port, address: ipv4 !== undefined ? `${ipv4}:${port.split('/')[0]}` : null })),
    volumes: (rec.image.volumes ?? []).map((path) => ({ path, host: volumeDir(join(zoneDiskDir, 'volumes'), path) })),
  };
}
