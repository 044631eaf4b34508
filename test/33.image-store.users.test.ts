// Which zones use which image, race-free: a zone of the image store is
// recorded as the image's user under the store's lock, the lock rmi and
// prune check users under. A create that meets an rmi either is recorded
// first (rmi refuses, naming it) or finds the image gone (the create fails
// and leaves no zone): never a zone whose image was removed under it. A zone
// destroyed and made again under its name from another image no longer
// holds the first one.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ImageStore } from '../src/zone/image/store/images.js';
import { useLifecycleEnv, waitFor } from './support/lifecycle-env.js';
import { busyboxRoot, describeWithRegistry, ociLayout, registrySkipReason } from './support/registry.js';

const env = useLifecycleEnv(79);
// A skipped file runs no hooks: what the environment made at import (its directory) goes now.
if (registrySkipReason() !== undefined) rmSync(env.base, { recursive: true, force: true });

let work: string;
let archive: string;
let archive2: string;
// A registry that is not there (nothing listens on port 2): a create that finds the image gone fails at once instead of pulling.
const REF = '127.0.0.1:2/race:v1';

interface Listed {
  digest: string;
  refs: string[];
  users: string[];
}
// Read in-process (as `lxzone images` reads it), to keep the file quick.
const images = async (): Promise<Listed[]> => new ImageStore({ stateDir: env.stateDir, runtimeDir: env.runtimeDir }).list();

describeWithRegistry('the record of an image\'s zones', () => {
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'lxzone-33u-'));
    busyboxRoot(join(work, 'l1'));
    ociLayout(join(work, 'oci'), [join(work, 'l1')], 'v1');
    archive = join(work, 'img.tar');
    execFileSync('tar', ['-C', join(work, 'oci'), '-cf', archive, '.']);
    // A second image (another config): for a name reused across images.
    ociLayout(join(work, 'oci2'), [join(work, 'l1')], 'v2', false, { Env: ['PATH=/bin'], Cmd: ['/bin/true'] });
    archive2 = join(work, 'img2.tar');
    execFileSync('tar', ['-C', join(work, 'oci2'), '-cf', archive2, '.']);
  });
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('a create waits for the store lock; an rmi that wins makes it fail, leaving no zone', async () => {
    await env.ok(['image', 'import', archive, REF]);
    const store = new ImageStore({ stateDir: env.stateDir, runtimeDir: env.runtimeDir });
    let created: { code: number | null; stderr: string } | undefined;
    let createRun: Promise<unknown> | undefined;
    await store.locked('test', async () => {
      createRun = env.cli(['create', 'held', '--image', REF, '--network', 'none']).then((r) => (created = r));
      // The create has saved its config and reached the point of recording its use…
      expect(await waitFor(() => existsSync(join(env.stateDir, 'zones/held/config.json')), 90_000, 50)).toBe(true);
      // …where it waits while the lock is held (with the record written outside the lock, it would be done by now).
      await sleep(2000);
      expect(created).toBeUndefined();
      // An rmi holding the lock sees no user: the image goes.
      expect(store.remove(REF).deleted).toMatch(/^sha256:/);
    });
    await createRun;
    expect(created?.code).not.toBe(0);
    expect(created?.stderr).toMatch(/image 127\.0\.0\.1:2\/race:v1 \(sha256:[0-9a-f]{64}\) is not in the image store any more/);
    expect(created?.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(env.stateDir, 'zones/held'))).toBe(false);
    expect(await images()).toEqual([]);
  });

  it('concurrent create and rmi: every zone left has its image, and the image names it', async () => {
    for (let round = 0; round < 3; round++) {
      if ((await images()).length === 0) await env.ok(['image', 'import', archive, REF]);
      const name = `race${round}`;
      // Stagger the rmi across the create's run, so rounds meet at different points.
      const [c, r] = await Promise.all([
        env.cli(['create', name, '--image', REF, '--network', 'none']),
        sleep(round * 400).then(() => env.cli(['rmi', REF])),
      ]);
      const zone = existsSync(join(env.stateDir, 'zones', name, 'config.json'));
      const listed = await images();
      expect(zone).toBe(c.code === 0);
      if (zone) {
        // The zone won: the image is there, in use by it, and rmi said so (or came first and failed… it cannot: the zone exists).
        expect(r.code).not.toBe(0);
        expect(r.stderr).toMatch(new RegExp(`in use by zone ${name}`));
        expect(listed.map((i) => i.users)).toEqual([[name]]);
        await env.ok(['destroy', name]);
      } else {
        expect(r.code).toBe(0);
        expect(c.stderr).toMatch(/race/);
        expect(c.stderr).not.toMatch(/\n\s+at /);
        expect(listed).toEqual([]);
      }
    }
  });

  it('a zone destroyed and made again from another image holds only the new one', async () => {
    await env.ok(['image', 'import', archive, REF]);
    await env.ok(['image', 'import', archive2, 'other:v2']);
    await env.ok(['create', 'again', '--image', REF, '--network', 'none']);
    await env.ok(['destroy', 'again']);
    await env.ok(['create', 'again', '--image', 'other:v2', '--network', 'none']);
    const users = Object.fromEntries((await images()).map((i) => [i.refs[0], i.users]));
    expect(users).toEqual({ [REF]: [], 'other:v2': ['again'] });
    expect((await env.cli(['rmi', REF])).code).toBe(0);
    const busy = await env.cli(['rmi', 'other:v2']);
    expect(busy.stderr).toMatch(/in use by zone again/);
  });
});
