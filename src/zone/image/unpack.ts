// Unpack an image tarball into a directory that becomes a zone's root:
//   rootfs  a plain tar of a root filesystem (plain, gzip or zstd)
//   docker  a `docker save` archive: manifest.json + config + layer tars
//   oci     an OCI image-layout archive: oci-layout, index.json, blobs/
// Everything happens in a temp directory beside `dest` (same filesystem) and
// is renamed into place only when all of it succeeded: a truncated or hostile
// archive leaves nothing behind but an error naming the archive, the layer
// and the entry.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, lchownSync, lstatSync, mkdirSync, readdirSync, renameSync, chownSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as tar from 'tar';
import { LxzoneError } from '../../errors.js';
import { removeTree } from '../state/remove-tree.js';
import { imageLimitsFromEnv, UnpackBudget, type ImageLimits } from './budget.js';
import { EntryError, entryRelPath } from './entry-path.js';
import { applyLayer, ZONE_ID_COUNT } from './layer.js';
import { ImageFormatError, readDockerLayout, readOciLayout, type ImageConfig } from './manifests.js';

export type ImageFormat = 'rootfs' | 'docker' | 'oci';

/** The zone's uid 0 is host uid 100000 by default (the runner's DEFAULT_ID_BASE). */
export const DEFAULT_ID_SHIFT = 100000;

export interface UnpackOptions {
  /** Default 'auto': decided from the archive's top-level names. */
  format?: ImageFormat | 'auto';
  /** docker: a RepoTag; oci: a ref name annotation. Needed when the archive holds several images. */
  ref?: string;
  /**
   * Host uid/gid of the zone's root: file owners are shifted by it so the
   * zone's root owns its files. Default DEFAULT_ID_SHIFT as root; as another
   * user null (no chown: files belong to the caller, who is the rootless
   * zone's root). Shifting needs root.
   */
  idShift?: number | null;
  /** Keep setuid/setgid bits (default: stripped; see layer.ts). */
  keepSetid?: boolean;
  /** Refuse images with more file content than this many bytes (overrides limits.maxBytes). */
  maxBytes?: number;
  /** Bounds on bytes, entries and expansion (budget.ts); default: imageLimitsFromEnv(). */
  limits?: Partial<ImageLimits>;
}

export interface UnpackResult {
  format: ImageFormat;
  /** The directory written (dest). */
  rootfs: string;
  layers: number;
  /** Entries skipped or changed (device nodes, out-of-range owners…). */
  warnings: string[];
  /** Env, entrypoint, cmd, working dir and user the image declares (docker/oci). */
  config?: ImageConfig;
  refs: string[];
}

/** Top-level names decide: oci-layout/index.json -> oci, manifest.json -> docker, else rootfs. */
export function detectImageFormat(archive: string, budget?: UnpackBudget): ImageFormat {
  const top = new Set<string>();
  tar.t({
    file: archive,
    sync: true,
    onReadEntry: (e) => {
      // This pass reads the whole archive too: bounded like the others.
      try {
        budget?.charge(e.size ?? 0);
      } catch (err) {
        throw new EntryError(e.path, (err as Error).message, 'EFBIG');
      }
      const p = e.path.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
      if (!p.includes('/')) top.add(p);
    },
  });
  if (top.has('oci-layout') && top.has('index.json')) return 'oci';
  if (top.has('manifest.json')) return 'docker';
  return 'rootfs';
}

/** Extract the outer archive of a docker/oci image: metadata and blobs only, within `budget`. */
export function extractOuter(archive: string, dir: string, budget: UnpackBudget): void {
  let refused: Error | undefined;
  tar.x({
    file: archive,
    cwd: dir,
    sync: true,
    strict: true,
    preserveOwner: false,
    filter: (path, e) => {
      if (refused) return false;
      try {
        entryRelPath(path);
        try {
          budget.charge((e as tar.ReadEntry).size ?? 0);
        } catch (err) {
          throw new EntryError(path, (err as Error).message, 'EFBIG');
        }
      } catch (err) {
        refused = err as Error;
        return false;
      }
      const type = (e as tar.ReadEntry).type;
      return type === 'File' || type === 'OldFile' || type === 'Directory' || type === 'SymbolicLink' || type === 'Link';
    },
  });
  if (refused) throw refused;
}

/** Give the zone's root every file tar left to the extracting user
 * (parent directories tar created on its own), walking without following links. */
function shiftStrays(root: string, shift: number): void {
  const inRange = (id: number) => id >= shift && id < shift + ZONE_ID_COUNT;
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      const st = lstatSync(p);
      if (!inRange(st.uid) || !inRange(st.gid)) {
        lchownSync(p, inRange(st.uid) ? st.uid : shift, inRange(st.gid) ? st.gid : shift);
      }
      if (st.isDirectory()) walk(p);
    }
  };
  walk(root);
}

/** Apply the recorded permission bits (tar's open() is subject to the umask
 * and tar forces u+rwx on directories while it works). */
export function applyModes(root: string, modes: Map<string, { mode: number; dir: boolean }>): void {
  const dirs: [string, number][] = [];
  for (const [rel, m] of modes) {
    const p = rel === '' ? root : join(root, rel);
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (!st || st.isSymbolicLink() || st.isDirectory() !== m.dir) continue;
    if (m.dir) dirs.push([p, m.mode]);
    else if ((st.mode & 0o7777) !== m.mode) chmodSync(p, m.mode);
  }
  // Deepest first, so a directory without u+x is closed last.
  dirs.sort((a, b) => b[0].length - a[0].length);
  for (const [p, mode] of dirs) chmodSync(p, mode);
}

export function describeError(e: unknown, root: string): { message: string; code: string } {
  if (e instanceof EntryError) return { message: e.message, code: e.code };
  if (e instanceof ImageFormatError) return { message: e.message, code: 'EINVAL' };
  const err = e as NodeJS.ErrnoException & { tarCode?: string; path?: string; symlink?: string; entry?: { path?: string } };
  const entry = err.entry?.path !== undefined ? `entry ${JSON.stringify(err.entry.path)}: ` : '';
  if (err.code === 'TAR_SYMLINK_ERROR') {
    const link = String(err.symlink ?? err.path ?? '').replace(`${root}/`, '');
    return { message: `${entry}goes through the symbolic link ${link}`, code: 'ELOOP' };
  }
  if (err.tarCode === 'TAR_BAD_ARCHIVE' || err.code === 'TAR_BAD_ARCHIVE' || err.code === 'Z_BUF_ERROR' || err.code === 'Z_DATA_ERROR') {
    return { message: `truncated or corrupt archive (${err.message})`, code: 'EINVAL' };
  }
  if (err.tarCode === 'TAR_ENTRY_INVALID' || err.code === 'TAR_ENTRY_INVALID') {
    return { message: `not a tar archive, or a corrupt one (${err.message})`, code: 'EINVAL' };
  }
  return { message: `${entry}${err.message}`, code: err.code ?? 'EIO' };
}

/**
 * Unpack `archive` into `dest` (which must not exist; its parent must).
 * Throws LxzoneError naming the archive (and layer/entry); leaves no
 * directory behind on failure.
 */
export function unpackImage(archive: string, dest: string, opts: UnpackOptions = {}): UnpackResult {
  const isRoot = process.getuid?.() === 0;
  const idShift = opts.idShift === undefined ? (isRoot ? DEFAULT_ID_SHIFT : null) : opts.idShift;
  const fail = (msg: string, code = 'EINVAL', cause?: unknown) =>
    new LxzoneError(`image ${archive}: ${msg}`, { code, where: archive, cause });
  if (idShift !== null && !isRoot) throw fail('shifting file owners needs root; use idShift: null', 'EPERM');
  if (idShift !== null && (!Number.isInteger(idShift) || idShift < 0 || idShift + ZONE_ID_COUNT > 2 ** 32 - 1)) {
    throw fail(`idShift ${idShift} is not a valid uid base`);
  }
  if (existsSync(dest)) throw fail(`destination ${dest} already exists`, 'EEXIST');
  if (!existsSync(archive)) throw fail('does not exist', 'ENOENT');
  const limits: ImageLimits = { ...imageLimitsFromEnv(), ...opts.limits, ...(opts.maxBytes !== undefined ? { maxBytes: opts.maxBytes } : {}) };
  const archiveBytes = statSync(archive).size;

  const work = join(dirname(dest), `.${basename(dest)}.unpack-${randomBytes(4).toString('hex')}`);
  mkdirSync(work, { mode: 0o700 });
  const root = join(work, 'rootfs');
  mkdirSync(root, { mode: 0o700 });
  let stage = '';
  try {
    stage = 'reading the archive';
    const format = !opts.format || opts.format === 'auto' ? detectImageFormat(archive, new UnpackBudget(limits, archiveBytes)) : opts.format;
    let layers: string[];
    let config: ImageConfig | undefined;
    let refs: string[] = [];
    if (format === 'rootfs') {
      layers = [archive];
    } else {
      const outer = join(work, 'archive');
      mkdirSync(outer, { mode: 0o700 });
      stage = 'extracting the archive';
      extractOuter(archive, outer, new UnpackBudget(limits, archiveBytes));
      stage = 'reading its manifest';
      const layout = format === 'docker' ? readDockerLayout(outer, opts.ref) : readOciLayout(outer, opts.ref);
      ({ layers, config, refs } = layout);
    }
    const warnings: string[] = [];
    const modes = new Map<string, { mode: number; dir: boolean }>();
    const budget = new UnpackBudget(limits, archiveBytes);
    layers.forEach((layer, i) => {
      stage = format === 'rootfs' ? '' : `layer ${i} (${layer.slice(work.length + 9)})`;
      applyLayer(layer, root, { idShift, keepSetid: opts.keepSetid ?? false, warnings, modes, budget });
    });
    stage = 'finishing';
    // The root's own mode is applied after the rename: moving a directory
    // needs write permission on it (its '..' changes), and Fedora-like
    // images have a 0555 root.
    const rootMode = modes.get('')?.mode ?? 0o755;
    modes.delete('');
    if (idShift !== null) {
      // The root itself is ours unless the archive had a "./" entry.
      const st = lstatSync(root);
      if (st.uid < idShift || st.uid >= idShift + ZONE_ID_COUNT) chownSync(root, idShift, idShift);
      shiftStrays(root, idShift);
    }
    applyModes(root, modes);
    renameSync(root, dest);
    chmodSync(dest, rootMode);
    return { format, rootfs: dest, layers: layers.length, warnings, config, refs };
  } catch (e) {
    const d = describeError(e, root);
    throw fail(stage === '' ? d.message : `${stage}: ${d.message}`, d.code, e);
  } finally {
    removeTree(work);
  }
}
