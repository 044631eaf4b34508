// `create --image FILE|DIR` goes through the image store for every kind of
// image file (src/zone/image/store/zone-import.ts): a `docker save` archive
// keeps its RepoTag as the image's name, an OCI image layout directory and
// the same layout as an archive are one image, and a file that is not an
// image (cut short, not a tar, a directory that is no layout) is refused
// with its name, leaving no zone and nothing in the store; a second create
// of the same file reads it no more, a file changed in place is a new
// image. No zone boots
// here (test/80.lifecycle.image boots zones of an image file); most creates
// are made in-process (createZone, the route the CLI takes), one of each
// kind through the CLI, to keep the file quick on a loaded host.
import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageStore } from '../src/zone/image/store/images.js';
import { releaseZoneIds } from '../src/zone/ids.js';
import { createZone } from '../src/zone/lifecycle/api.js';
import { useLifecycleEnv } from './support/lifecycle-env.js';
import { makeImageArchive } from './support/oci-image.js';
import { busyboxRoot, ociLayout } from './support/registry.js';

const env = useLifecycleEnv(56);
/** `lxzone ARGS`, which must succeed, given time (a create on a loaded host outlasts runCli's 30 s default). */
async function ok(args: string[]): Promise<string> {
  const r = await env.cli(args, { timeoutMs: 150_000 });
  expect(r.code, `lxzone ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}
let work: string;

/** An image zone made in-process; `image` a file or directory. */
const create = (name: string, image: string) => createZone({ name, rootfs: { type: 'image', path: image }, network: { mode: 'none' } });
/** A zone never booted goes as a failed create's does. */
const drop = (name: string) => {
  releaseZoneIds(env.store, name);
  env.store.remove(name);
};
const images = () => new ImageStore({ stateDir: env.stateDir, runtimeDir: env.runtimeDir }).list();
const rootfsOf = (n: string) => (JSON.parse(readFileSync(join(env.stateDir, 'zones', n, 'config.json'), 'utf8')) as { rootfs: { type: string; ref?: string; digest?: string } }).rootfs;
/** The store's own files: blobs, unpacked layers, source records (temp files included). */
const storeFiles = () => ['blobs/sha256', 'layers', 'sources'].flatMap((d) => (existsSync(join(env.stateDir, 'images', d)) ? readdirSync(join(env.stateDir, 'images', d)).map((f) => `${d}/${f}`) : []));

describe('create --image with an image file', () => {
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'lxzone-33cf-'));
    busyboxRoot(join(work, 'l1'));
  });
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('a docker save archive is stored under its RepoTag; an OCI layout directory and its archive are one image; the zones use them', async () => {
    const saved = makeImageArchive(work, 'lxzone.test/saved:1', ['/bin/sh', '-c', 'echo saved']);
    await create('z1', saved);
    const [img] = images();
    expect(img!.refs).toEqual(['lxzone.test/saved:1']);
    expect(img!.image.cmd).toEqual(['/bin/sh', '-c', 'echo saved']);
    expect(rootfsOf('z1')).toEqual({ type: 'store', ref: 'lxzone.test/saved:1', digest: img!.digest });

    const layout = join(work, 'oci');
    const { manifest } = ociLayout(layout, [join(work, 'l1')], 'lxzone.test/layout:2');
    await ok(['create', 'z2', '--image', layout, '--network', 'none']);
    const tarred = join(work, 'oci.tar');
    execFileSync('tar', ['-C', layout, '-cf', tarred, '.']);
    await create('z3', tarred);
    expect(rootfsOf('z2')).toEqual({ type: 'store', ref: 'lxzone.test/layout:2', digest: manifest });
    expect(rootfsOf('z3')).toEqual(rootfsOf('z2'));
    const byRef = Object.fromEntries(images().map((i) => [i.refs.join(','), i.users]));
    expect(byRef).toEqual({ 'lxzone.test/saved:1': ['z1'], 'lxzone.test/layout:2': ['z2', 'z3'] });
    // The files may go: nothing of a zone refers to them.
    rmSync(layout, { recursive: true });
    rmSync(tarred);
    rmSync(saved);
    expect(images().find((i) => i.digest === manifest)!.users).toEqual(['z2', 'z3']);
    for (const z of ['z1', 'z2', 'z3']) drop(z);
    const store = new ImageStore({ stateDir: env.stateDir, runtimeDir: env.runtimeDir });
    await store.locked('test', () => ['lxzone.test/saved:1', 'lxzone.test/layout:2'].forEach((r) => store.remove(r)));
    expect(images()).toEqual([]);
    // Their source records went with them.
    expect(storeFiles()).toEqual([]);
  }, 300_000);

  it('refuses a file cut short, a file that is no tar and a directory that is no layout, naming it: no zone, nothing in the store', async () => {
    const whole = makeImageArchive(work, 'lxzone.test/cut:1', ['/bin/true'], 'cut.tar');
    truncateSync(whole, Math.floor(statSync(whole).size / 2));
    const rootfs = join(work, 'rootfs.tar');
    execFileSync('tar', ['-C', join(work, 'l1'), '-cf', rootfs, '.']);
    truncateSync(rootfs, Math.floor(statSync(rootfs).size / 2));
    const text = join(work, 'notes.txt');
    writeFileSync(text, 'not an image\n'.repeat(100));
    const dir = join(work, 'plain-dir');
    mkdirSync(dir);
    const cases: [string, RegExp][] = [
      [whole, /^image .*\/cut\.tar: .*(truncated|corrupt)/],
      [rootfs, /^image .*\/rootfs\.tar: .*(truncated|corrupt|unexpected end)/i],
      [text, /^image .*\/notes\.txt: .*(not a tar archive|truncated or corrupt)/],
      [dir, /^image .*\/plain-dir: is a directory but not an OCI image layout/],
    ];
    const left = (file: string) => {
      expect(existsSync(join(env.stateDir, 'zones', 'bad')), file).toBe(false);
      expect(images(), file).toEqual([]);
      expect(storeFiles(), file).toEqual([]);
    };
    // Through the CLI: exit 1, the reason, no stack trace.
    const r = await env.cli(['create', 'bad', '--image', whole, '--network', 'none', '--', '/bin/true'], { timeoutMs: 150_000 });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^lxzone: ${cases[0]![1].source.slice(1)}`));
    expect(r.stderr).not.toMatch(/\n\s+at /);
    left(whole);
    for (const [file, message] of cases) {
      const e = await create('bad', file).then(() => undefined, (err: Error) => err);
      expect(e?.message, file).toMatch(message);
      left(file);
    }
  }, 300_000);

  it('a second zone of the same file reads nothing again; a changed file is a new image; ids go back with the zone', async () => {
    const archive = join(work, 'rootfs-ok.tar');
    execFileSync('tar', ['-C', join(work, 'l1'), '-cf', archive, '.']);
    await create('one', archive);
    const first = rootfsOf('one');
    const blobs = join(env.stateDir, 'images', 'blobs', 'sha256');
    const stored = () => readdirSync(blobs).map((f) => [f, statSync(join(blobs, f)).ino]);
    const before = stored();
    await create('two', archive);
    expect(rootfsOf('two')).toEqual(first);
    // No name of its own (a plain rootfs tar has none): listed by its id, used by both zones.
    const [img] = images();
    expect(img!.refs).toEqual([]);
    expect(first.ref).toBe(img!.config.slice(7, 19));
    expect(await ok(['images'])).toMatch(new RegExp(`^<none>\\s+${first.ref}\\s.*one,two`, 'm'));
    expect(stored()).toEqual(before); // nothing staged or placed again
    // The same path with other content (a tar rebuilt in place): another image.
    appendFileSync(archive, Buffer.alloc(10240)); // a tar's end is zero blocks: still a valid tar, another digest
    await create('three', archive);
    expect(rootfsOf('three').digest).not.toBe(first.digest);
    expect(images().map((i) => i.users).sort()).toEqual([['one', 'two'], ['three']]);
    const base = (JSON.parse(readFileSync(join(env.stateDir, 'zones', 'one', 'ids.json'), 'utf8')) as { idBase: number }).idBase;
    drop('one');
    await create('four', archive);
    expect((JSON.parse(readFileSync(join(env.stateDir, 'zones', 'four', 'ids.json'), 'utf8')) as { idBase: number }).idBase).toBe(base);
    for (const z of ['two', 'three', 'four']) drop(z);
    const store = new ImageStore({ stateDir: env.stateDir, runtimeDir: env.runtimeDir });
    await store.locked('test', () => store.prune());
    expect(images()).toEqual([]);
    expect(storeFiles()).toEqual([]);
  }, 300_000);
});
