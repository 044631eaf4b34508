// From a reference to what a zone of the image needs: its layer directories
// (unpacked once, shared), what the image declares (Env, Cmd, …), and a
// reader of files through the layers (the zone's /etc/passwd for a user
// name), for `run --image` and `create --image`. A missing image is pulled
// first, as `docker run` does.
import type { ZoneFileReader } from '../../config/user.js';
import type { ImageConfig } from '../manifests.js';
import { pullImage, type PullEvent } from '../registry/pull.js';
import type { ImageRecord, ImageStore } from './images.js';
import { parseImageRef } from './reference.js';
import { layeredReader } from './layered.js';
import { volumeDir } from './volumes.js';

export { layeredEntry, layeredReader } from './layered.js';

export interface ZoneImage {
  record: ImageRecord;
  /** Host directories of the layers, lowest first. */
  layers: string[];
  config: ImageConfig;
  readFile: ZoneFileReader;
  /** What of the image a rootless zone cannot take (rootlessImageConfig). */
  warnings: string[];
}

/**
 * A rootless zone has one id, its root (the caller): an image's User other
 * than root cannot be given, so its process runs as the zone's root, said.
 * As root, the config as it is.
 */
export function rootlessImageConfig(config: ImageConfig, what: string): { config: ImageConfig; warnings: string[] } {
  if (process.getuid?.() === 0 || config.user === undefined || /^(0|root)?(:(0|root))?$/.test(config.user)) return { config, warnings: [] };
  const { user, ...rest } = config;
  return { config: rest, warnings: [`${what}: its User ${user} is not taken: a rootless zone has one user, its root (you), which runs the process`] };
}

/**
 * The image's record and layer directories, pulled first if missing. As root
 * the store is root's and its layers are id-mapped onto each zone's ids; as
 * another user it is that user's own store (under their state directory),
 * its layers unpacked as theirs (layers.ts) for a rootless zone.
 */
export async function zoneImage(store: ImageStore, ref: string, onPull?: (e: PullEvent) => void): Promise<ZoneImage> {
  let record = store.resolve(ref);
  if (!record) record = await pullImage(store, parseImageRef(ref), onPull ? { onEvent: onPull } : {});
  const layers = record.layers.map((l, i) => store.layers.unpack(l.digest, `image ${ref}: layer ${i}`).dir);
  const { config, warnings } = rootlessImageConfig(record.image, `image ${ref}`);
  return { record, layers, config, readFile: layeredReader(layers), warnings };
}

/** What `lxzone inspect` shows of a store zone's image settings. */
export interface ZoneImageView {
  ref: string;
  digest: string;
  /** The image's ExposedPorts, each with where the host reaches it: the zone's own address (no host port is published). */
  exposedPorts: { port: string; address: string | null }[];
  /** The image's Volumes: the zone path and its directory (on the zone's disk; rootless, in its state directory), made at first boot. */
  volumes: { path: string; host: string }[];
}

export function zoneImageView(store: ImageStore, rootfs: { ref: string; digest: string }, volumesDir: string, ipv4: string | undefined): ZoneImageView | undefined {
  const rec = store.record(rootfs.digest);
  if (!rec) return undefined;
  return {
    ref: rootfs.ref,
    digest: rec.digest,
    exposedPorts: (rec.image.exposedPorts ?? []).map((port) => ({ port, address: ipv4 !== undefined ? `${ipv4}:${port.split('/')[0]}` : null })),
    volumes: (rec.image.volumes ?? []).map((path) => ({ path, host: volumeDir(volumesDir, path) })),
  };
}
