// Who uses an image: users/<hex>/ in the store. While an image has a user,
// rmi refuses it and prune keeps it.
//   <zone>                  a zone created from it (claimed at its create)
//   @run-<pid>              a one-shot `run --image` while it runs
//   @create-<pid>-<rand>    a create between importing or finding its image
//                           file's image and claiming it (zone-import.ts)
// The @ entries are live records of their process (live-record.ts): a dead
// one's entry counts no more. Changes happen under the store's lock.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LxzoneError } from '../../../errors.js';
import { writeFileAtomic } from '../../state/atomic.js';
import { BlobStore } from './blobs.js';
import { liveRecord, writeLiveRecord } from './live-record.js';

const RUN_USER = '@run-';
const CREATE_USER = '@create-';

export class ImageUsers {
  /**
   * `dir`: the store's users/; `stateDir`: lxzone's state directory, whose
   * zones/<zone>/config.json says whether a zone entry still counts.
   */
  constructor(
    readonly dir: string,
    private readonly stateDir: string,
  ) {}

  private dirOf(digest: string): string {
    return join(this.dir, BlobStore.check(digest));
  }

  /**
   * Zones created from the image, one-shot runs of it ("run:<pid>") and
   * creates holding it ("create:<pid>"); stale entries (a zone that is gone,
   * a run or create whose process is) are dropped.
   */
  list(digest: string): string[] {
    const dir = this.dirOf(digest);
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((entry) => {
        const live = entry.startsWith('@') ? liveRecord(join(dir, entry)) !== undefined : this.zoneUses(entry, digest);
        if (live) return true;
        rmSync(join(dir, entry), { force: true }); // the zone, run or create is gone: its use with it
        return false;
      })
      .map((entry) => {
        if (entry.startsWith(RUN_USER)) return `run:${entry.slice(RUN_USER.length)}`;
        if (entry.startsWith(CREATE_USER)) return `create:${entry.slice(CREATE_USER.length).split('-')[0]}`;
        return entry;
      })
      .sort();
  }

  /** This process's one-shot run uses the image until the returned function is called. Under the lock. */
  addRun(digest: string): () => void {
    return this.addProcess(digest, `${RUN_USER}${process.pid}`);
  }

  /** A create of this process holds the image until the returned function is called; each hold its own entry. Under the lock. */
  addCreate(digest: string): () => void {
    return this.addProcess(digest, `${CREATE_USER}${process.pid}-${randomBytes(4).toString('hex')}`);
  }

  private addProcess(digest: string, entry: string): () => void {
    const file = join(this.dirOf(digest), entry);
    mkdirSync(this.dirOf(digest), { recursive: true, mode: 0o700 });
    writeLiveRecord(file);
    return () => rmSync(file, { force: true });
  }

  /** Zone `zone` uses the image from now on. Under the lock. */
  addZone(digest: string, zone: string): void {
    mkdirSync(this.dirOf(digest), { recursive: true, mode: 0o700 });
    // Not synced (empty: only its name counts): a root zone's create syncs
    // its disk image next, which commits this entry with it. Lost in a
    // crash, rmi could remove the image of a zone, whose boot then says
    // to pull it again; one sync less per create.
    writeFileAtomic(join(this.dirOf(digest), zone), '', 0o600, false, false);
  }

  /** The users of images gone (their entries were dropped as stale when read): every directory but `kept`'s hexes. */
  forgetImagesBut(kept: Set<string>): void {
    for (const f of readdirSync(this.dir)) if (/^[a-f0-9]{64}$/.test(f) && !kept.has(f)) rmSync(join(this.dir, f), { recursive: true, force: true });
  }

  /**
   * Whether zone `zone` still exists and is of this image: a zone destroyed
   * and made again under its name from another image uses this one no more.
   */
  private zoneUses(zone: string, digest: string): boolean {
    const file = join(this.stateDir, 'zones', zone, 'config.json');
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return false; // no config: the zone is gone
    }
    try {
      const rootfs = (JSON.parse(text) as { rootfs?: { type?: unknown; digest?: unknown } }).rootfs;
      return rootfs?.type === 'store' && rootfs.digest === digest;
    } catch {
      return true; // a config being rewritten or damaged: count the use, rmi can wait
    }
  }
}

/** rmi's refusal of image `ref`, naming its users (as list gives them) and what to do first. */
export function imageInUse(ref: string, users: string[]): LxzoneError {
  const zones = users.filter((u) => !u.startsWith('run:') && !u.startsWith('create:'));
  const runs = users.filter((u) => u.startsWith('run:'));
  const creates = users.filter((u) => u.startsWith('create:'));
  const by = [
    ...(zones.length > 0 ? [`zone${zones.length > 1 ? 's' : ''} ${zones.join(', ')}`] : []),
    ...(runs.length > 0 ? [`running lxzone run${runs.length > 1 ? 's' : ''} (pid ${runs.map((r) => r.slice(4)).join(', ')})`] : []),
    ...(creates.length > 0 ? [`a zone being created (pid ${creates.map((r) => r.slice(7)).join(', ')})`] : []),
  ];
  const then = [
    ...(zones.length > 0 ? [`destroy ${zones.length > 1 ? 'them' : 'it'}`] : []),
    ...(runs.length > 0 ? ['wait for the run to end'] : []),
    ...(creates.length > 0 ? ['wait for the create to end'] : []),
  ];
  return new LxzoneError(`image ${ref} is in use by ${by.join(' and ')} (${then.join(', ')} first)`, { code: 'EBUSY', where: ref });
}
