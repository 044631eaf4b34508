// Where lxzone keeps things.
//   state (persistent): /var/lib/lxzone as root, else $XDG_DATA_HOME/lxzone
//     (~/.local/share/lxzone); LXZONE_STATE_DIR overrides.
//       zones/<name>/config.json   the zone's configuration
//       zones/<name>/rootfs/       its unpacked image (rootfs type "image")
//       zones/<name>/logs/         its stdout/stderr files
//   runtime (gone at reboot): /run/lxzone as root, else $XDG_RUNTIME_DIR/lxzone
//     (or /tmp/lxzone-<uid> when that is unset); LXZONE_RUNTIME_DIR overrides.
//       zones/<name>.json          runtime record of a booted zone
//       locks/<name>.lock          per-zone lock (lock.ts)
// Both are created 0700: other users have no business in either, and both
// are checked before use (trusted-dir.ts).
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { assertZoneName } from '../config/validate.js';

export { ensurePrivateDir } from './trusted-dir.js';

export interface StorePaths {
  stateDir: string;
  runtimeDir: string;
}

function absoluteEnv(env: NodeJS.ProcessEnv, key: string): string | undefined {
  const v = env[key];
  return v !== undefined && v !== '' && isAbsolute(v) ? v : undefined;
}

/** The default directories for the calling user (env can be given for tests). */
export function defaultPaths(env: NodeJS.ProcessEnv = process.env, uid: number = process.getuid?.() ?? 0): StorePaths {
  const root = uid === 0;
  const stateDir =
    absoluteEnv(env, 'LXZONE_STATE_DIR') ??
    (root ? '/var/lib/lxzone' : join(absoluteEnv(env, 'XDG_DATA_HOME') ?? join(env.HOME || homedir(), '.local/share'), 'lxzone'));
  const runtimeDir =
    absoluteEnv(env, 'LXZONE_RUNTIME_DIR') ??
    (root
      ? '/run/lxzone'
      : absoluteEnv(env, 'XDG_RUNTIME_DIR') !== undefined
        ? join(absoluteEnv(env, 'XDG_RUNTIME_DIR') as string, 'lxzone')
        : `/tmp/lxzone-${uid}`);
  return { stateDir, runtimeDir };
}

/** Paths of one zone's files; the name is checked first so it cannot leave its directory. */
export function zonePaths(p: StorePaths, name: string) {
  assertZoneName(name);
  const zoneDir = join(p.stateDir, 'zones', name);
  return {
    zoneDir,
    configFile: join(zoneDir, 'config.json'),
    rootfsDir: join(zoneDir, 'rootfs'),
    /** An image zone with a disk cap: its root lives in this ext4 image file… */
    diskImage: join(zoneDir, 'disk.img'),
    /** …mounted here while the zone runs, the root being its rootfs/ directory. */
    diskMount: join(zoneDir, 'disk'),
    logDir: join(zoneDir, 'logs'),
    runtimeFile: join(p.runtimeDir, 'zones', `${name}.json`),
    lockFile: join(p.runtimeDir, 'locks', `${name}.lock`),
  };
}
export type ZonePaths = ReturnType<typeof zonePaths>;
