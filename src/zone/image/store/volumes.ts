// An image's Volumes for a zone of the image store: each path gets a
// directory of the zone's own on the zone's disk (<disk>/volumes/<path,
// encoded>), bound read-write at that path. Like Docker's anonymous volume
// it starts as a copy of what the image has there (owners shifted onto the
// zone's ids, as its upper layer's files are), lives outside the overlay
// (no copy-up, not part of the image), and is the zone's until it is
// destroyed (the disk goes with it). Made once, before the zone ever runs
// with it: the host never writes into a volume the zone has had, so nothing
// the zone plants there (a symlink) is ever followed by the host.
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, lchownSync, lstatSync, mkdirSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { LxzoneError } from '../../../errors.js';
import type { BindMount } from '../../config/types.js';
import { normalizeZonePath } from '../../config/validate.js';
import { removeTree } from '../../state/remove-tree.js';
import { native } from '../../../native.js';

/** More than this many volumes is not an image anyone means (each is a mount). */
export const MAX_VOLUMES = 64;
/** Paths a volume must not cover: the zone's own kernel filesystems and its root. */
const RESERVED = /^\/(proc|sys|dev)(\/|$)|^\/$/;

/** The image's volume paths, normalised and checked; an image that asks for something unusable is refused. */
export function volumePaths(volumes: string[] | undefined, what: string): string[] {
  const out = new Set<string>();
  for (const v of volumes ?? []) {
    if (!v.startsWith('/') || v.includes('\0') || v.split('/').includes('..')) throw new LxzoneError(`${what}: volume "${v}" is not an absolute path without ".."`, { code: 'EINVAL' });
    const p = normalizeZonePath(v);
    if (RESERVED.test(p)) throw new LxzoneError(`${what}: volume "${v}" would cover the zone's ${p === '/' ? 'root' : p}`, { code: 'EINVAL' });
    out.add(p);
  }
  if (out.size > MAX_VOLUMES) throw new LxzoneError(`${what}: ${out.size} volumes, more than the ${MAX_VOLUMES} allowed`, { code: 'EINVAL' });
  return [...out].sort();
}

/** The host directory under `volumesDir` of the volume at zone path `p` (one name per path, no '/'). */
export function volumeDir(volumesDir: string, p: string): string {
  return join(volumesDir, encodeURIComponent(p));
}

/** Ids as the zone sees them, shifted onto its host range; ids outside the range become its nobody. */
function shifter(idBase: number, count: number): (id: number) => number {
  return (id) => idBase + (id < count ? id : 65534);
}

function isWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

/** An opaque directory of a layer (`.wh..wh..opq` in the tar): what lower layers hold there is hidden. */
export function isOpaque(dir: string): boolean {
  return native().overlayIsOpaque(dir);
}

/** Copy one layer's tree at `src` over `dst` (overlayfs whiteouts remove what is below). */
function overlay(src: string, dst: string, shift: ((id: number) => number) | null): void {
  for (const name of readdirSync(src)) {
    const s = join(src, name);
    const d = join(dst, name);
    const st = lstatSync(s);
    const have = lstatSync(d, { throwIfNoEntry: false });
    if (isWhiteout(st) || (have && !(have.isDirectory() && st.isDirectory()))) rmSync(d, { recursive: true, force: true });
    if (isWhiteout(st)) continue;
    if (st.isDirectory()) {
      // Opaque here: the lower layers' files in it were deleted by this layer (the directory recreated).
      if (have && isOpaque(s)) rmSync(d, { recursive: true, force: true });
      mkdirSync(d, { recursive: true, mode: 0o700 });
      overlay(s, d, shift);
    } else if (st.isFile()) copyFileSync(s, d);
    else if (st.isSymbolicLink()) symlinkSync(readlinkSync(s), d);
    else continue; // devices and fifos stay in the image's root only
    if (shift) lchownSync(d, shift(st.uid), shift(st.gid));
    if (!st.isSymbolicLink()) chmodSync(d, st.mode & 0o7777);
  }
}

/**
 * The layer directories holding `p` as a directory, lowest first, from the
 * last one that whites it out, replaces it with a non-directory, or makes
 * it (or a directory above it) opaque: those hide every lower layer's `p`.
 * A symlink on the way ends the lookup in that layer (only the merged tree
 * could resolve it): that layer adds nothing.
 */
function layersWith(layers: string[], p: string): string[] {
  const parts = p.split('/').filter(Boolean);
  let found: string[] = [];
  for (const layer of layers) {
    let cur = layer;
    for (let i = 0; i < parts.length; i++) {
      cur = join(cur, parts[i] as string);
      const st = lstatSync(cur, { throwIfNoEntry: false });
      if (!st || st.isSymbolicLink()) break;
      if (isWhiteout(st) || !st.isDirectory() || isOpaque(cur)) found = [];
      if (isWhiteout(st) || !st.isDirectory()) break;
      if (i === parts.length - 1) found.push(cur);
    }
  }
  return found;
}

/**
 * The zone's volumes as binds: each made on first use under `volumesDir`
 * (on the zone's disk) from the image's content at its path. Returns the
 * binds to add to the zone's own.
 */
export function ensureVolumes(paths: string[], layers: string[], volumesDir: string, ids: { idBase: number; count: number } | null, idsAs?: (id: number) => number): BindMount[] {
  if (paths.length === 0) return [];
  mkdirSync(volumesDir, { recursive: true, mode: 0o711 });
  // null: a rootless zone's, whose layers' files and the copies are all the caller's (the zone maps that one id);
  // `idsAs`: ids kept as the zone sees them, for a bind mounted id-mapped (a one-shot run's, run-volumes.ts).
  const shift = ids ? shifter(ids.idBase, ids.count) : (idsAs ?? null);
  return paths.map((p) => {
    const dir = volumeDir(volumesDir, p);
    if (!existsSync(dir)) seedFromLayers(layers, p, volumesDir, dir, shift);
    return { host: dir, zone: p, readOnly: false, lxzoneOwn: true };
  });
}

/**
 * Makes `dest` (which must be absent, or an empty directory) a copy of what
 * the image's layers hold at zone path `p`, owners through `shift`: built in
 * a fresh directory under `workDir` (on dest's filesystem) and renamed into
 * place, so the host never writes into a directory a zone has had.
 */
export function seedFromLayers(layers: string[], p: string, workDir: string, dest: string, shift: ((id: number) => number) | null): void {
  const tmp = join(workDir, `.new-${randomBytes(4).toString('hex')}`);
  try {
    mkdirSync(tmp, { mode: 0o755 });
    const from = layersWith(layers, p);
    for (const l of from) overlay(l, tmp, shift);
    const top = from.at(-1) !== undefined ? lstatSync(from.at(-1) as string) : undefined;
    if (shift) lchownSync(tmp, shift(top?.uid ?? 0), shift(top?.gid ?? 0));
    chmodSync(tmp, top ? top.mode & 0o7777 : 0o755);
    renameSync(tmp, dest);
  } finally {
    if (existsSync(tmp)) removeTree(tmp);
  }
}

/** Whether the image's layers have anything at zone path `p` (a volume there would be seeded with it). */
export function layersHave(layers: string[], p: string): boolean {
  return layersWith(layers, p).length > 0;
}
