// An image's Volumes for a one-shot `lxzone run --image`: as for a stored
// zone (volumes.ts), each path gets a directory of the run's own, seeded
// from the image's content there and bound read-write over it, outside the
// overlay. The run keeps nothing, so they live in lxzone's runtime
// directory (<runtime>/run-volumes/<pid>-<rand>/, a tmpfs on most hosts:
// gone at the host's reboot too) and are removed when the run ends, as
// `docker run --rm` removes its anonymous volumes. Their files keep zone
// ids as they are and are mounted id-mapped onto the run's ids (its range
// is chosen only when the zone starts); rootless, they are the caller's own
// (the zone's one id). A run killed before its clean-up leaves its
// directory with an owner file naming its process: the next run removes it.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BindMount } from '../../config/types.js';
import { removeTree } from '../../state/remove-tree.js';
import { isAlive, processIdentity, type ProcessIdentity } from '../../state/proc.js';
import { zoneIdCount } from '../../subids.js';
import { ensureVolumes, volumePaths } from './volumes.js';

export interface RunVolumes {
  binds: BindMount[];
  /** Removes the run's volume directories (after its zone ended: nothing of it writes there any more). */
  remove: () => void;
}

/** Volume directories of runs whose process is gone (killed before their clean-up). */
function sweepStale(base: string): void {
  for (const entry of readdirSync(base)) {
    if (!entry.endsWith('.owner')) continue;
    let owner: ProcessIdentity | undefined;
    try {
      owner = JSON.parse(readFileSync(join(base, entry), 'utf8')) as ProcessIdentity;
    } catch {
      owner = undefined; // half-written by a run that died at once: its directory is stale too
    }
    if (owner && isAlive(owner)) continue;
    removeTree(join(base, entry.slice(0, -'.owner'.length)));
    rmSync(join(base, entry), { force: true });
  }
}

/**
 * The binds of the image's Volumes for a one-shot run, each seeded now;
 * `skip`: zone paths the run binds itself (its -v wins, as docker's).
 */
export function runVolumes(runtimeDir: string, volumes: string[] | undefined, layers: string[], what: string, skip: string[]): RunVolumes {
  const paths = volumePaths(volumes, what).filter((p) => !skip.includes(p));
  if (paths.length === 0) return { binds: [], remove: () => undefined };
  const base = join(runtimeDir, 'run-volumes');
  mkdirSync(base, { recursive: true, mode: 0o700 });
  sweepStale(base);
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const dir = join(base, tag);
  const owner = join(base, `${tag}.owner`);
  writeFileSync(owner, JSON.stringify(processIdentity()));
  const remove = () => {
    if (existsSync(dir)) removeTree(dir);
    rmSync(owner, { force: true });
  };
  const rootless = process.getuid?.() !== 0;
  try {
    // Zone ids as they are (ids past the zone's range: its nobody), id-mapped at the mount; rootless: as they are.
    const count = zoneIdCount();
    const binds = ensureVolumes(paths, layers, dir, null, rootless ? undefined : (id) => (id < count ? id : 65534));
    return { binds: rootless ? binds : binds.map((b) => ({ ...b, idmap: true as const })), remove };
  } catch (e) {
    remove();
    throw e;
  }
}
