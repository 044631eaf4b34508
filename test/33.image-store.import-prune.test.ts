// An import and a prune at the same time. An import places its blobs (and,
// as root, unpacks its layers) before it records the image; a prune in
// between saw them as nobody's and removed them, so the import failed with a
// blob "missing from the store" or a layer gone under its unpack. An import
// now names each digest in the store's record of operations in progress
// (under the store's lock) before its blob is placed, and prune keeps those
// blobs, their staged temp files and layers until the import has recorded
// the image or ended.
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageStore } from '../src/zone/image/store/images.js';
import { busyboxRoot, ociLayout } from './support/registry.js';
import { runCli } from './support/zones.js';

let work: string;
let archive: string;
let layerHex: string;
const saved = { state: process.env.LXZONE_STATE_DIR, run: process.env.LXZONE_RUNTIME_DIR };
const stateDir = () => join(work, 'state');
const store = () => new ImageStore({ stateDir: stateDir(), runtimeDir: join(work, 'run') });
const blobDir = () => join(stateDir(), 'images/blobs/sha256');

describe('image import racing image prune', () => {
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'lxzone-33ip-'));
    process.env.LXZONE_STATE_DIR = stateDir();
    process.env.LXZONE_RUNTIME_DIR = join(work, 'run');
    // A layer with many files and some incompressible bytes: its hashing,
    // copy and unpack take long enough for prunes to land in between.
    const l1 = join(work, 'l1');
    busyboxRoot(l1);
    mkdirSync(join(l1, 'data'));
    for (let i = 0; i < 1500; i++) writeFileSync(join(l1, 'data', `f${i}`), `file ${i}\n`);
    writeFileSync(join(l1, 'data/big'), randomBytes(8 << 20));
    const { manifest } = ociLayout(join(work, 'oci'), [l1], 'v1');
    const m = JSON.parse(readFileSync(join(work, 'oci/blobs/sha256', manifest.slice(7)), 'utf8')) as { layers: { digest: string }[] };
    layerHex = m.layers[0]!.digest.slice(7);
    archive = join(work, 'img.tar');
    execFileSync('tar', ['-C', join(work, 'oci'), '-cf', archive, '.']);
  }, 120_000); // thousands of files and a gzip of 8 MiB: slow on a loaded host
  afterAll(() => {
    if (saved.state === undefined) delete process.env.LXZONE_STATE_DIR;
    else process.env.LXZONE_STATE_DIR = saved.state;
    if (saved.run === undefined) delete process.env.LXZONE_RUNTIME_DIR;
    else process.env.LXZONE_RUNTIME_DIR = saved.run;
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('prunes while an import runs: the import completes whole, and what it brought stays', async () => {
    for (const round of [1, 2]) {
      const ref = `127.0.0.1:2/race:r${round}`;
      let ended = false;
      const importing = runCli(['image', 'import', archive, ref], { timeoutMs: 120_000 }).finally(() => (ended = true));
      // Prune over and over (each under the store's lock, as `lxzone image
      // prune` does) until the import ends; count the prunes that ran while
      // the import's layer blob was placed but its image not yet recorded:
      // the window in which a prune used to take it.
      let inWindow = 0;
      while (!ended) {
        const s = store();
        await s.locked('test prune', () => {
          const placed = existsSync(join(blobDir(), layerHex));
          s.prune();
          if (placed && s.resolve(ref) === undefined) inWindow++;
        });
        await sleep(15);
      }
      const r = await importing;
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(inWindow).toBeGreaterThan(0);
      const rec = store().get(ref);
      for (const d of [rec.digest, rec.config, ...rec.layers.map((l) => l.digest)]) expect(existsSync(join(blobDir(), d.slice(7)))).toBe(true);
      if (process.getuid?.() === 0) expect(store().layers.has(rec.layers[0]!.digest)).toBe(true);
      // Nothing of the import is left in flight: no record of it, no staged file.
      expect(readdirSync(join(stateDir(), 'images/pulls'))).toEqual([]);
      expect(readdirSync(blobDir()).filter((f) => f.startsWith('.'))).toEqual([]);
      // Untagged, the next prune takes it all: the import's hold ended with it.
      const s = store();
      await s.locked('test rmi', () => s.remove(ref));
      await s.locked('test prune', () => s.prune());
      expect(readdirSync(blobDir())).toEqual([]);
    }
  }, 240_000);

  it('a prune removes the staged files of an import that died, and keeps a live one\'s', async () => {
    const s = store();
    const op = await s.operationStarted('import');
    try {
      const dead = join(blobDir(), `.stage-999999999-0badc0de-${randomBytes(4).toString('hex')}`);
      const live = join(blobDir(), `.stage-${op.tag}-${randomBytes(4).toString('hex')}`);
      writeFileSync(dead, 'half an import');
      writeFileSync(live, 'an import at work');
      await s.locked('test prune', () => s.prune());
      expect(existsSync(dead)).toBe(false);
      expect(existsSync(live)).toBe(true);
      op.done();
      await s.locked('test prune', () => s.prune());
      expect(existsSync(live)).toBe(false);
    } finally {
      op.done();
    }
  });
});
