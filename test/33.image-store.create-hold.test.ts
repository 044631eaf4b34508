// `lxzone create --image FILE` imports the file (zone-import.ts) and the
// zone then claims the stored image (claimForZone), two steps under the
// store's lock with the zone's config saved between them. A plain rootfs
// tar gives an unnamed image, which prune removes when nothing uses it: a
// prune between the two steps took the new image, and the create failed
// (or, found again from its source record, the same). The import now holds
// the image for the create in the very locked call that records it (or
// finds it again), until the create releases it. Tested by running a prune
// exactly in that window: after importForZone returned, before the claim.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageStore } from '../src/zone/image/store/images.js';
import { forgetImported, importForZone } from '../src/zone/image/store/zone-import.js';
import { busyboxRoot } from './support/registry.js';

let work: string;
let tarFile: string;
const store = () => new ImageStore({ stateDir: join(work, 'state'), runtimeDir: join(work, 'run') });
const prune = (s: ImageStore) => s.locked('prune', () => s.prune());
const stored = (s: ImageStore) => s.list().map((i) => i.digest);

describe('create --image FILE: the new image against a prune before the zone claims it', () => {
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'lxzone-33ch-'));
    busyboxRoot(join(work, 'root'));
    tarFile = join(work, 'rootfs.tar');
    execFileSync('tar', ['--numeric-owner', '-C', join(work, 'root'), '-cf', tarFile, '.']);
  }, 60_000);
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('keeps the image an import made for a create, and one found again, until the create lets go', { timeout: 120_000 }, async () => {
    const s = store();
    const first = await importForZone(s, { path: tarFile });
    expect(first.added).toBe(true);
    const digest = first.rootfs.digest;
    expect(s.list().find((i) => i.digest === digest)?.refs).toEqual([]); // unnamed: prunable once unused
    expect(s.users(digest)).toEqual([`create:${process.pid}`]);
    // The window: imported, not claimed yet. A prune now keeps it, and rmi says why not.
    expect((await prune(s)).images).toEqual([]);
    expect(stored(s)).toContain(digest);
    await expect(s.locked('rmi', () => s.remove(digest))).rejects.toThrow(/a zone being created \(pid \d+\)/);
    await s.claimForZone(digest, 'ch-one', 'image rootfs.tar'); // what create does next: it succeeds
    first.release();

    // The same file again: found from its source record (not read), and held as it is found.
    const again = await importForZone(s, { path: tarFile });
    expect(again.added).toBe(false);
    expect(again.rootfs.digest).toBe(digest);
    expect(s.users(digest)).toEqual(['create:' + process.pid]); // ch-one has no config here: not a user
    expect((await prune(s)).images).toEqual([]);
    expect(stored(s)).toContain(digest);
    // A create that fails lets go (forgetImported): the image, unnamed and unused, then goes.
    await forgetImported(s, again);
    expect(s.users(digest)).toEqual([]);
    expect((await prune(s)).images).toEqual([digest]);
    expect(stored(s)).toEqual([]);
    expect(readdirSync(join(work, 'state/images/sources'))).toEqual([]);

    // A failed create's forget of an image it added removes it at once, hold and all.
    const third = await importForZone(s, { path: tarFile });
    expect(third.added).toBe(true);
    await forgetImported(s, third);
    expect(stored(s)).toEqual([]);
    expect(readdirSync(join(work, 'state/images/users'))).toEqual([]);
  });
});
