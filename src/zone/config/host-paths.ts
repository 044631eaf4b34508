// The checks a schema cannot make: host paths named by a config must exist and
// be reached without any symlink. A bind of /srv/data where /srv/data is a
// symlink (or sits under one) would mount whatever the link points at when the
// zone boots, which the person who wrote the config may not have meant and an
// attacker who can change the link certainly did: such paths are refused, and
// the error names the real path to use instead.
//
// This is a check at create and boot time, not a guarantee at mount time: the
// shim must still open bind sources with O_PATH|O_NOFOLLOW (or openat2
// RESOLVE_NO_SYMLINKS) and mount the fd, so a link swapped in afterwards is
// caught there too.
import { lstatSync, realpathSync, type Stats } from 'node:fs';
import { LxzoneError } from '../../errors.js';
import type { ZoneConfig } from './types.js';

function fieldError(source: string, field: string, detail: string, errno?: number): LxzoneError {
  return new LxzoneError(`zone config "${source}": field "${field}": ${detail}`, {
    code: errno === undefined ? 'EINVAL' : undefined,
    errno,
    where: `${source}:${field}`,
  });
}

/**
 * Check that `path` exists and that resolving it meets no symlink: its
 * realpath must be the path itself. Returns the lstat of the final component.
 */
export function checkHostPath(path: string, source: string, field: string): Stats {
  let st: Stats;
  let real: string;
  try {
    real = realpathSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') {
      throw fieldError(source, field, `${path} does not exist`, -(err.errno ?? 0) || undefined);
    }
    throw fieldError(source, field, `${path}: ${err.message}`, -(err.errno ?? 0) || undefined);
  }
  if (real !== path) {
    throw fieldError(
      source,
      field,
      `${path} goes through a symlink (it resolves to ${real}); name the real path instead`,
    );
  }
  try {
    st = lstatSync(path);
  } catch (e) {
    throw fieldError(source, field, `${path}: ${(e as Error).message}`);
  }
  return st;
}

/**
 * Check every host path of a (schema-valid) config: rootfs directory or image
 * file, and bind sources. Throws on the first problem, naming the field.
 */
export function checkHostPaths(cfg: ZoneConfig, source: string = cfg.name): void {
  const r = cfg.rootfs;
  if (r.type === 'dir') {
    const st = checkHostPath(r.path, source, 'rootfs.path');
    if (!st.isDirectory()) throw fieldError(source, 'rootfs.path', `${r.path} is not a directory`);
  } else if (r.type === 'image') {
    const st = checkHostPath(r.path, source, 'rootfs.path');
    // A directory must be an OCI image layout: the import says so if it is not (zone-import.ts).
    if (!st.isFile() && !st.isDirectory()) throw fieldError(source, 'rootfs.path', `${r.path} is neither a regular file (an image archive) nor a directory (an OCI image layout)`);
  }
  cfg.binds.forEach((b, i) => {
    const st = checkHostPath(b.host, source, `binds[${i}].host`);
    if (!st.isDirectory() && !st.isFile() && !st.isCharacterDevice() && !st.isSocket() && !st.isFIFO()) {
      throw fieldError(source, `binds[${i}].host`, `${b.host} is neither a directory nor a file`);
    }
  });
}
