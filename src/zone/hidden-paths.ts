// Host paths no zone may see: lxzone's own state and runtime directories
// (issue 14.9). A rootless zone runs as its caller's uid, so permissions
// cannot keep it out of the caller's ~/.local/share/lxzone, where every
// zone's config (environment secrets included) and logs live; a root zone's
// root is an unprivileged host id, kept out by the directories' 0700, and
// masked all the same. So wherever such a directory would show in a zone
// (the host's root as the zone's root, a bind of a directory above it), the
// shim mounts an empty read-only tmpfs over it, and a bind of anything in
// it is refused.
import { realpathSync } from 'node:fs';
import { LxzoneError } from '../errors.js';
import type { BindMount } from './config/types.js';
import { defaultPaths } from './state/paths.js';

function real(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined; // not there (yet): nothing to hide
  }
}

const under = (path: string, dir: string) => path === dir || path.startsWith(dir === '/' ? '/' : `${dir}/`);

/** lxzone's directories of the caller's environment, plus `extra` (a store's own), as real paths. */
export function lxzoneHostDirs(extra: string[] = []): string[] {
  const d = defaultPaths();
  const out = new Set<string>();
  for (const p of [d.stateDir, d.runtimeDir, ...extra]) {
    const r = real(p);
    if (r !== undefined) out.add(r);
  }
  return [...out];
}

/**
 * The zone paths to mask for `hidden` host directories, given the zone's
 * root (undefined: the host's) and binds; throws for a bind from inside one.
 */
export function zonePathsToHide(hidden: string[], rootfs: string | undefined, binds: BindMount[]): string[] {
  const out = new Set<string>();
  for (const h of hidden) {
    // An image zone's root lives in the state directory: it is its own, and shows only itself.
    const root = rootfs === undefined ? '/' : real(rootfs) ?? rootfs;
    if (under(h, root)) out.add(`/${h.slice(root.length)}`.replace(/\/+/g, '/'));
    for (const b of binds) {
      const src = real(b.host) ?? b.host;
      if (under(src, h) && b.lxzoneOwn !== true) {
        throw new LxzoneError(`bind source ${b.host} is inside lxzone's directory ${h}: zones never see lxzone's state`, {
          code: 'EACCES',
          where: b.host,
          exitCode: 2,
        });
      }
      if (under(h, src)) out.add(`${b.zone}/${h.slice(src.length)}`.replace(/\/+/g, '/').replace(/(.)\/$/, '$1'));
    }
  }
  return [...out];
}
