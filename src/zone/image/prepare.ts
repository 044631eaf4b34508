// From a zone's config to the directory its root will be, and from the
// config plus the image's own settings to the process the zone runs.
//   host  -> no directory (the runner mounts the host's root read-only)
//   dir   -> the directory, re-checked (it may have vanished since create)
//   image -> <state>/zones/<name>/rootfs (or disk/rootfs on the zone's
//            mounted disk image, with a disk cap), unpacked on first use; image.json
//            beside it keeps what the image declared (env, cmd, user…) and
//            is written after the rootfs is in place, so a rootfs without
//            image.json is an interrupted unpack and is redone.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LxzoneError } from '../../errors.js';
import { checkHostPath } from '../config/host-paths.js';
import type { ZoneConfig } from '../config/types.js';
import { writeFileAtomic } from '../state/atomic.js';
import { removeTree } from '../state/remove-tree.js';
import type { ZoneStore } from '../state/store.js';
import type { ImageConfig } from './manifests.js';
import { unpackImage, type ImageFormat } from './unpack.js';
import type { ZoneFileReader } from '../config/user.js';
import { ImageStore } from './store/images.js';
import { layeredReader, rootlessImageConfig } from './store/zone-image.js';

export interface PreparedRootfs {
  /** Host directory of the zone's root; undefined for the host's own root. */
  rootfs?: string;
  /** An image store's layers (lowest first), for the zone's overlay root. */
  layers?: string[];
  /** Reads a file of the zone's root through its layers (a user name's passwd entry). */
  readFile?: ZoneFileReader;
  /** What the image declared (image rootfs only). */
  image?: ImageConfig;
  /** Warnings of the unpack (first use only). */
  warnings: string[];
}

interface ImageRecord {
  archive: string;
  format: ImageFormat;
  refs: string[];
  config?: ImageConfig;
  unpackedAt: string;
}

export function prepareZoneRootfs(
  store: ZoneStore,
  cfg: ZoneConfig,
  opts: { idShift?: number | null; rootfsDir?: string } = {},
): PreparedRootfs {
  const r = cfg.rootfs;
  if (r.type === 'host') return { warnings: [] };
  if (r.type === 'store') {
    // The zone became a user of the image at its create (claimForZone, under
    // the store's lock): rmi refuses the image until the zone is destroyed.
    const images = new ImageStore({ stateDir: store.stateDir, runtimeDir: store.runtimeDir });
    const rec = images.record(r.digest);
    if (!rec) throw new LxzoneError(`image ${r.ref} (${r.digest}) is not in the image store any more: pull it again`, { code: 'ENOENT', where: 'rootfs.digest' });
    const layers = rec.layers.map((l, i) => images.layers.unpack(l.digest, `image ${r.ref}: layer ${i}`).dir);
    const { config, warnings } = rootlessImageConfig(rec.image, `image ${r.ref}`);
    return { layers, readFile: layeredReader(layers), image: config, warnings };
  }
  if (r.type === 'dir') {
    const st = checkHostPath(r.path, cfg.name, 'rootfs.path');
    if (!st.isDirectory()) {
      throw new LxzoneError(`zone config "${cfg.name}": field "rootfs.path": ${r.path} is not a directory`, { code: 'ENOTDIR' });
    }
    return { rootfs: r.path, warnings: [] };
  }
  const p = store.paths(cfg.name);
  // A zone with a disk cap has its root on its mounted disk image (src/zone/lifecycle/zone-disk.ts).
  const rootfsDir = opts.rootfsDir ?? p.rootfsDir;
  const recordFile = join(p.zoneDir, 'image.json');
  if (existsSync(rootfsDir) && existsSync(recordFile)) {
    let rec: ImageRecord;
    try {
      rec = JSON.parse(readFileSync(recordFile, 'utf8')) as ImageRecord;
    } catch (e) {
      throw new LxzoneError(`image record "${recordFile}": not valid JSON: ${(e as Error).message}`, { code: 'EINVAL', where: recordFile });
    }
    return { rootfs: rootfsDir, image: rec.config, warnings: [] };
  }
  if (existsSync(rootfsDir)) removeTree(rootfsDir); // interrupted before image.json
  checkHostPath(r.path, cfg.name, 'rootfs.path');
  const res = unpackImage(r.path, rootfsDir, {
    format: r.format ?? 'auto',
    ref: r.ref,
    ...(opts.idShift !== undefined ? { idShift: opts.idShift } : {}),
  });
  const rec: ImageRecord = { archive: r.path, format: res.format, refs: res.refs, config: res.config, unpackedAt: new Date().toISOString() };
  writeFileAtomic(recordFile, `${JSON.stringify(rec, null, 2)}\n`);
  return { rootfs: rootfsDir, image: res.config, warnings: res.warnings };
}

export interface ZoneProcess {
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  /** uid[:gid] or name[:group], to resolve with resolveUser() in the rootfs; undefined = root. */
  user?: string;
}

/**
 * What the zone runs, docker's way: the config's command, else the image's
 * Entrypoint + Cmd, else /bin/sh; the image's Env (less the names of
 * envUnset) under the config's env;
 * the config's cwd, else the image's WorkingDir, else /; the config's user,
 * else the image's User.
 */
export function zoneProcess(cfg: ZoneConfig, image?: ImageConfig): ZoneProcess {
  const fromImage = [...(image?.entrypoint ?? []), ...(image?.cmd ?? [])];
  const argv = cfg.command ?? (fromImage.length > 0 ? fromImage : ['/bin/sh']);
  const out: ZoneProcess = {
    argv,
    env: { ...withoutNames(image?.env ?? {}, cfg.envUnset ?? []), ...cfg.env },
    cwd: cfg.cwd ?? image?.workingDir ?? '/',
  };
  const user = cfg.user ?? image?.user;
  if (user !== undefined) out.user = user;
  return out;
}

function withoutNames(env: Record<string, string>, names: string[]): Record<string, string> {
  const out = { ...env };
  for (const n of names) delete out[n];
  return out;
}
