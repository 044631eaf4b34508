// lxzone's volumes: directories that outlive the zones using them, shared by
// every zone that names one (ZoneConfig.volumes), kept under the state
// directory: <state>/volumes/<name>/volume.json (what it is) and _data (its
// files). The files are owned by zone ids as such (0 is a zone's root), as
// the image store keeps its layers; each zone mounts the data id-mapped onto
// its own host range (native/shim/mounts.cc), so a file zone A's root writes
// is root's in zone B too, and on the host it is owned by the low ids of
// nobody's zone. Rootless, a user's volumes are the user's own files (their
// zones' root is the user), mounted without a mapping.
//
// The host never follows what a zone wrote: a volume is seeded from its
// image only before any zone has had it (seed.ts, into a fresh directory
// renamed into place), its size is read with lstat, and its removal goes
// through directory fds that never follow a symlink (native removeBeneath).
import { existsSync, lstatSync, mkdirSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LxzoneError } from '../../errors.js';
import { native } from '../../native.js';
import { readFileIfExists, writeFileAtomic } from '../state/atomic.js';
import { VOLUME_NAME_PATTERN } from '../config/schema.js';

export interface VolumeRecord {
  name: string;
  /** When it was made (ISO 8601). */
  createdAt: string;
  labels: Record<string, string>;
  /** Options given at create (Docker's DriverOpts): kept and shown, none acted on. */
  options: Record<string, string>;
  /** Made for one container alone (Docker's anonymous volume). */
  anonymous?: boolean;
  /** A zone has had it mounted: from then on the host never writes into it (no seeding). */
  used?: boolean;
}

const NAME = new RegExp(VOLUME_NAME_PATTERN);
const DATA = '_data';
const RECORD = 'volume.json';

/** A volume name as Docker's local driver allows it; the error names it. */
export function checkVolumeName(name: string): void {
  if (!NAME.test(name)) {
    throw new LxzoneError(
      `"${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed (2 to 255 of them). If you intended to pass a host directory, use absolute path`,
      { code: 'EINVAL', exitCode: 2 },
    );
  }
}

export class VolumeStore {
  readonly dir: string;

  constructor(stateDir: string) {
    this.dir = join(stateDir, 'volumes');
  }

  private ensureDir(): void {
    // 0700: the data's files are owned by low host ids and setuid bits are
    // kept for the zones (their mounts are nosuid); no host user may reach them.
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  /** The directory a zone mounts (the volume's "Mountpoint"). */
  dataDir(name: string): string {
    checkVolumeName(name);
    return join(this.dir, name, DATA);
  }

  get(name: string): VolumeRecord | undefined {
    if (!NAME.test(name)) return undefined;
    const text = readFileIfExists(join(this.dir, name, RECORD));
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as VolumeRecord;
    } catch {
      return undefined; // a record cut short by a crash: not a volume (its create never finished)
    }
  }

  list(): VolumeRecord[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return []; // no volume was ever made
    }
    return names
      .sort()
      .map((n) => this.get(n))
      .filter((v): v is VolumeRecord => v !== undefined);
  }

  /**
   * Makes the volume (its data directory owned by the zones' root, 0755) or,
   * when it exists, returns it as it is (dockerd's create is idempotent).
   */
  create(name: string, opts: { labels?: Record<string, string>; options?: Record<string, string>; anonymous?: boolean } = {}): { volume: VolumeRecord; created: boolean } {
    checkVolumeName(name);
    const have = this.get(name);
    if (have) return { volume: have, created: false };
    this.ensureDir();
    const vdir = join(this.dir, name);
    mkdirSync(vdir, { recursive: true, mode: 0o700 });
    mkdirSync(join(vdir, DATA), { recursive: true, mode: 0o755 });
    const volume: VolumeRecord = {
      name,
      createdAt: new Date().toISOString(),
      labels: { ...(opts.labels ?? {}) },
      options: { ...(opts.options ?? {}) },
      ...(opts.anonymous ? { anonymous: true } : {}),
    };
    // The record last: a volume is there once its record is.
    writeFileAtomic(join(vdir, RECORD), `${JSON.stringify(volume, null, 2)}\n`);
    return { volume, created: true };
  }

  /** Records that a zone has had the volume (seed.ts then leaves it alone). */
  markUsed(name: string): void {
    const v = this.get(name);
    if (!v || v.used) return;
    writeFileAtomic(join(this.dir, name, RECORD), `${JSON.stringify({ ...v, used: true }, null, 2)}\n`);
  }

  /**
   * Removes the volume and its data (the caller has checked no zone uses
   * it). The record goes first, so a removal cut short leaves no half volume
   * that lists; the data is removed without following any link in it.
   */
  remove(name: string): void {
    checkVolumeName(name);
    const vdir = join(this.dir, name);
    if (!existsSync(vdir)) throw new LxzoneError(`no such volume: ${name}`, { code: 'ENOENT', exitCode: 1 });
    rmSync(join(vdir, RECORD), { force: true });
    native().removeBeneath(vdir, DATA);
    // Whatever else is left (a seed directory cut short, a temp file): lxzone's own files.
    for (const n of readdirSync(vdir)) native().removeBeneath(vdir, n);
    rmdirSync(vdir);
  }

  /** Bytes the volume's files take (lstat only: nothing in it is followed); -1 if unreadable. */
  size(name: string): number {
    let total = 0;
    const walk = (p: string, depth: number): void => {
      const st = lstatSync(p, { throwIfNoEntry: false });
      if (!st) return;
      total += st.blocks * 512;
      if (st.isDirectory() && depth < 512) for (const n of readdirSync(p)) walk(join(p, n), depth + 1);
    };
    try {
      walk(join(this.dir, name, DATA), 0);
    } catch {
      return -1; // changed under us (a running zone writes): dockerd says -1 too when it cannot tell
    }
    return total;
  }
}
