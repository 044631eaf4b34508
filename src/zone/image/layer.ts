// Applying one layer tarball (plain, gzip or zstd) onto a root directory with
// the `tar` package, in two passes:
//   1. list the layer and apply its whiteouts to what lower layers left:
//      `.wh.NAME` removes NAME, `.wh..wh..opq` empties its directory (OCI
//      image spec, "Whiteouts"); doing this before extracting means the
//      layer's own entries are never removed, wherever the marker sits;
//   2. extract the rest, synchronously, each entry checked first.
//
// Safety, entry by entry:
//   - names: no absolute path, no '..', no NUL (entry-path.ts): refused;
//   - nothing is written through a symlink: tar refuses a symlink among an
//     entry's parents (TAR_SYMLINK_ERROR) and replaces a symlink at the
//     entry's own path instead of following it; our whiteout and symlink
//     code checks parents the same way (ensureRealParents);
//   - symlinks are created by us, with their target kept verbatim (an
//     absolute target is meaningful inside the zone, where / is the rootfs);
//     tar would rewrite absolute targets to relative ones. The host never
//     follows a symlink of an unpacked rootfs: code that resolves paths in
//     it must use resolveInRoot (or RESOLVE_IN_ROOT in C++);
//   - hardlinks: the target must be inside the root ('..' refused) and
//     reached without a symlink (tar checks every component);
//   - device nodes and FIFOs are skipped with a warning (a zone cannot use a
//     device node from its image: /dev is the zone's own tmpfs);
//   - setuid/setgid bits are stripped (the zone runs with no_new_privs, so
//     the kernel would ignore them anyway); keepSetid keeps them;
//   - owners are shifted by idShift (zone uid N -> host uid idShift+N); an id
//     beyond the zone's 65536 is mapped to the zone's nobody (65534).
import { lchownSync, lstatSync, mkdirSync, lutimesSync, readdirSync, rmdirSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import * as tar from 'tar';
import { native } from '../../native.js';
import type { UnpackBudget } from './budget.js';
import { EntryError, entryRelPath, ensureRealParents, type Owner } from './entry-path.js';

export const ZONE_ID_COUNT = 65536;
const ZONE_NOBODY = 65534;

export interface LayerOptions {
  /** Host uid/gid the zone's 0 maps to; null: keep the extracting user's ids (no chown). */
  idShift: number | null;
  keepSetid: boolean;
  /** What the whole image may still cost (bytes, entries, expansion: budget.ts), shared by all layers. */
  budget: UnpackBudget;
  /** Collected here: skipped entries and other things the caller should hear about. */
  warnings: string[];
  /** Final permission bits of every file and directory, by relative path (applied by the caller at the end). */
  modes: Map<string, { mode: number; dir: boolean }>;
  /**
   * 'apply' (default): whiteouts delete what lower layers left in `root`.
   * 'overlay': `root` holds this layer alone (a shared layer of the image
   * store); whiteouts become overlayfs's own (a 0/0 character device, an
   * opaque directory: trusted.overlay.opaque, which needs root).
   * 'overlay-user': the same with user.overlay.opaque, as an overlay
   * mounted with `userxattr` reads it (a rootless user's store; a 0/0
   * whiteout device needs no privilege since Linux 5.8).
   */
  whiteouts?: 'apply' | 'overlay' | 'overlay-user';
}

/** Which whiteouts a layer carries, from a first listing pass. */
interface Whiteouts {
  remove: string[];
  opaque: string[];
}

// The listing pass reads the whole layer too: it is bounded by the same
// budget (a fork, so the extraction pass charges the entries once).
function listWhiteouts(file: string, budget: UnpackBudget): Whiteouts {
  const out: Whiteouts = { remove: [], opaque: [] };
  tar.t({
    file,
    sync: true,
    strict: true,
    onReadEntry: (e) => {
      try {
        budget.charge(e.size ?? 0);
      } catch (err) {
        throw new EntryError(e.path, (err as Error).message, 'EFBIG');
      }
      const rel = entryRelPath(e.path);
      const base = basename(rel);
      if (base === '.wh..wh..opq') out.opaque.push(dirname(rel) === '.' ? '' : dirname(rel));
      else if (base.startsWith('.wh..wh.')) return; // aufs bookkeeping, not a whiteout
      else if (base.startsWith('.wh.')) {
        const dir = dirname(rel);
        out.remove.push(dir === '.' ? base.slice(4) : `${dir}/${base.slice(4)}`);
      }
    },
  });
  return out;
}

function applyWhiteouts(root: string, w: Whiteouts): void {
  for (const dir of w.opaque) {
    if (dir !== '' && !ensureRealParents(root, `${dir}/x`, `${dir}/.wh..wh..opq`, undefined, false)) continue;
    const abs = dir === '' ? root : join(root, dir);
    const st = lstatSync(abs, { throwIfNoEntry: false });
    if (!st || !st.isDirectory()) continue;
    for (const child of readdirSync(abs)) rmSync(join(abs, child), { recursive: true, force: true });
  }
  for (const rel of w.remove) {
    if (!ensureRealParents(root, rel, rel, undefined, false)) continue;
    // rmSync removes a symlink itself, never what it points to.
    rmSync(join(root, rel), { recursive: true, force: true });
  }
}

function shiftId(id: number | undefined, shift: number, what: string, entry: string, warnings: string[]): number {
  const v = id ?? 0;
  if (v >= 0 && v < ZONE_ID_COUNT) return shift + v;
  warnings.push(`entry ${JSON.stringify(entry)}: ${what} ${v} is outside the zone's ids 0-65535; owned by nobody (65534) instead`);
  return shift + ZONE_NOBODY;
}

/** Replace whatever is at `abs` (not a non-empty directory) with a symlink. */
function makeSymlink(root: string, rel: string, target: string, owner: Owner | undefined, mtime: Date | undefined, entry: string): void {
  ensureRealParents(root, rel, entry, owner);
  const abs = join(root, rel);
  const st = lstatSync(abs, { throwIfNoEntry: false });
  if (st?.isDirectory()) {
    try {
      rmdirSync(abs);
    } catch {
      throw new EntryError(entry, 'a symlink cannot replace a non-empty directory');
    }
  } else if (st) unlinkSync(abs);
  symlinkSync(target, abs);
  if (owner) lchownSync(abs, owner.uid, owner.gid);
  if (mtime) lutimesSync(abs, mtime, mtime);
}

/**
 * Extract one layer onto `root`. Throws EntryError for a refused entry, or
 * tar's error (TAR_BAD_ARCHIVE, TAR_SYMLINK_ERROR, zlib errors…) as it comes.
 */
export function applyLayer(file: string, root: string, opts: LayerOptions): void {
  const whiteouts = listWhiteouts(file, opts.budget.fork());
  if (opts.whiteouts === undefined || opts.whiteouts === 'apply') applyWhiteouts(root, whiteouts);
  let refused: Error | undefined;
  tar.x({
    file,
    cwd: root,
    sync: true,
    strict: true,
    preserveOwner: opts.idShift !== null,
    filter: (path, e) => {
      if (refused) return false;
      const entry = e as tar.ReadEntry;
      try {
        // Charged before anything of it is written, skipped entries too.
        try {
          opts.budget.charge(entry.size ?? 0);
        } catch (err) {
          throw new EntryError(path, (err as Error).message, 'EFBIG');
        }
        const rel = entryRelPath(path);
        const base = basename(rel);
        if (base.startsWith('.wh.')) return false; // applied in pass 1
        if (entry.type === 'CharacterDevice' || entry.type === 'BlockDevice' || entry.type === 'FIFO') {
          opts.warnings.push(`entry ${JSON.stringify(path)}: ${entry.type} skipped (zones get their own /dev)`);
          return false;
        }
        if (!['File', 'OldFile', 'ContiguousFile', 'Directory', 'GNUDumpDir', 'SymbolicLink', 'Link'].includes(entry.type)) {
          opts.warnings.push(`entry ${JSON.stringify(path)}: unsupported type ${entry.type} skipped`);
          return false;
        }
        if (entry.type === 'Link') {
          const target = String(entry.linkpath ?? '');
          let t: string;
          try {
            t = entryRelPath(target);
          } catch (err) {
            throw new EntryError(path, `hardlink target ${(err as EntryError).message.replace(/^entry /, '')}`);
          }
          if (t === '') throw new EntryError(path, 'hardlink to the root directory');
        }
        let owner: Owner | undefined;
        if (opts.idShift !== null) {
          owner = {
            uid: shiftId(entry.uid, opts.idShift, 'uid', path, opts.warnings),
            gid: shiftId(entry.gid, opts.idShift, 'gid', path, opts.warnings),
          };
          entry.uid = owner.uid;
          entry.gid = owner.gid;
        }
        let mode = (entry.mode ?? 0o644) & 0o7777;
        if (!opts.keepSetid) mode &= ~0o6000;
        entry.mode = mode;
        if (entry.type === 'SymbolicLink') {
          makeSymlink(root, rel, String(entry.linkpath ?? ''), owner, entry.mtime, path);
          opts.modes.delete(rel);
          return false;
        }
        if (entry.type === 'Directory' || entry.type === 'GNUDumpDir') opts.modes.set(rel, { mode, dir: true });
        else if (entry.type !== 'Link') opts.modes.set(rel, { mode, dir: false });
        return true;
      } catch (err) {
        refused = err as Error;
        return false;
      }
    },
  });
  if (refused) throw refused;
  if (opts.whiteouts === 'overlay' || opts.whiteouts === 'overlay-user') markOverlayWhiteouts(root, whiteouts, opts.whiteouts === 'overlay-user');
}

// OCI: a whiteout hides only what lower layers hold; an entry of the same
// layer at that path stays (image-spec layer.md, "Whiteouts"). Parents are
// created as real directories (never through a symlink of this layer).
function markOverlayWhiteouts(root: string, w: Whiteouts, userXattr: boolean): void {
  const addon = native();
  for (const dir of w.opaque) {
    const entry = `${dir === '' ? '' : `${dir}/`}.wh..wh..opq`;
    ensureRealParents(root, entry, entry);
    const abs = dir === '' ? root : join(root, dir);
    const st = lstatSync(abs, { throwIfNoEntry: false });
    if (!st) mkdirSync(abs, { mode: 0o755 });
    else if (!st.isDirectory()) throw new EntryError(entry, `${dir} is not a directory`);
    addon.overlayOpaque(abs, userXattr);
  }
  for (const rel of w.remove) {
    ensureRealParents(root, rel, rel);
    const abs = join(root, rel);
    if (lstatSync(abs, { throwIfNoEntry: false })) continue;
    addon.overlayWhiteout(abs);
  }
}
