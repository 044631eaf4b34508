// Issue 16's figures for the image store, against a real registry on
// loopback (Debian's docker-registry, the image pushed by skopeo, as the
// tests do):
//  - pull throughput: lxzone's pull (download, verify, unpack the layers once)
//    into an empty store, against `skopeo copy` of the same image from the
//    same registry into an OCI layout (download and verify, no unpack); MB/s
//    of the image's compressed layers;
//  - create of a second zone of an image already in the store: wall time of
//    createZone() (the TypeScript API, in this process), and the disk it adds
//    (allocated blocks of the zone's directory, and of the store, which must
//    not grow: the layers are shared), and of zones made by naming the
//    image's tar file (create --image FILE.tar: imported into the store by
//    the first, later ones take the stored image). The image is the cached Debian 12
//    rootfs (scripts/debian-rootfs.sh) when there is one, else the busybox one.
// The image: busybox and its libraries, plus a layer of incompressible data
// (--quick: 4 MiB, else 128 MiB) so the pull moves real bytes.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDiskImage } from '../../src/zone/cgroups/disk.js';
import { createZone } from '../../src/zone/lifecycle/api.js';
import { DEFAULT_COW_DISK_BYTES } from '../../src/zone/lifecycle/zone-disk.js';
import { pullImage } from '../../src/zone/image/registry/pull.js';
import { importArchive } from '../../src/zone/image/store/archive.js';
import { ImageStore } from '../../src/zone/image/store/images.js';
import { parseImageRef } from '../../src/zone/image/store/reference.js';
import { busyboxRoot, ociLayout, push, registrySkipReason, SKOPEO, startRegistry } from '../../test/support/registry.js';
import type { SectionContext } from '../lib/section.js';
import { checkAtMost } from '../lib/section.js';
import { median, row } from '../lib/stats.js';

/** Allocated bytes under `path` (du: blocks actually used, not apparent sizes). */
function allocated(path: string): number {
  return Number(execFileSync('du', ['-s', '-B1', '-x', path], { encoding: 'utf8' }).split('\t')[0]);
}

/** The Debian 12 rootfs tar scripts/debian-rootfs.sh cached, if there is one ($LXZONE_IMAGE_CACHE as it uses). */
function cachedDebianTar(): string | undefined {
  const cache = process.env.LXZONE_IMAGE_CACHE ?? '/var/cache/lxzone/images';
  if (!existsSync(cache)) return undefined;
  const tar = readdirSync(cache).find((f) => /^debian-bookworm-[0-9a-f]+\.tar$/.test(f));
  return tar === undefined ? undefined : join(cache, tar);
}

export async function images(ctx: SectionContext): Promise<void> {
  const why = registrySkipReason();
  if (why !== undefined) {
    ctx.skip(why);
    return;
  }
  const quick = ctx.opts.runs <= 1;
  const dataMiB = quick ? 4 : 128;
  const rounds = quick ? 1 : 3;
  const creates = quick ? 2 : 7;
  const work = mkdtempSync(join(tmpdir(), 'lxzone-bench-img-'));
  const reg = await startRegistry(work);
  try {
    busyboxRoot(join(work, 'l1'));
    mkdirSync(join(work, 'l2/data'), { recursive: true });
    for (let i = 0; i < dataMiB; i++) writeFileSync(join(work, 'l2/data', `f${i}`), randomBytes(1 << 20));
    ociLayout(join(work, 'oci'), [join(work, 'l1'), join(work, 'l2')], 'v1');
    const ref = `${reg.host}/bench:v1`;
    push(join(work, 'oci'), 'v1', ref);
    rmSync(join(work, 'l2'), { recursive: true, force: true });
    ctx.note(`image: busybox + ${dataMiB} MiB of incompressible files, 2 layers; ${rounds} pull round(s), ${creates} second-zone create(s)`);

    // Pull throughput, each round into an empty store / an empty layout.
    const lxMBs: number[] = [];
    const skMBs: number[] = [];
    let bytes = 0;
    for (let r = 0; r < rounds; r++) {
      const state = join(work, `pull-${r}`);
      const store = new ImageStore({ stateDir: join(state, 'state'), runtimeDir: join(state, 'run') });
      let t0 = performance.now();
      const rec = await pullImage(store, parseImageRef(ref));
      let s = (performance.now() - t0) / 1000;
      bytes = rec.layers.reduce((n, l) => n + l.size, 0);
      lxMBs.push(bytes / 1e6 / s);
      rmSync(state, { recursive: true, force: true });
      const dest = join(work, `skopeo-${r}`);
      t0 = performance.now();
      execFileSync(SKOPEO, ['--insecure-policy', 'copy', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `oci:${dest}:v1`], { stdio: ['ignore', 'ignore', 'pipe'] });
      s = (performance.now() - t0) / 1000;
      skMBs.push(bytes / 1e6 / s);
      rmSync(dest, { recursive: true, force: true });
    }
    const name = `pull from the loopback registry (${(bytes / 1e6).toFixed(0)} MB of layers)`;
    ctx.rows.push(row(name, 'lxzone pull', 'MB/s', lxMBs, 'download + verify + unpack the layers'));
    ctx.rows.push(row(name, 'skopeo copy', 'MB/s', skMBs, 'download + verify into an OCI layout, no unpack'));

    // A second zone of an image already in the store (and a first one made),
    // and zones made by naming the image's tar file (imported once).
    // The image: the Debian 12 rootfs of scripts/debian-rootfs.sh when it is
    // cached (the case), else the pulled busybox image.
    const debian = cachedDebianTar();
    const state = join(work, 'zones');
    const env = { ...process.env, LXZONE_STATE_DIR: join(state, 'state'), LXZONE_RUNTIME_DIR: join(state, 'run') };
    const store = new ImageStore({ stateDir: env.LXZONE_STATE_DIR, runtimeDir: env.LXZONE_RUNTIME_DIR });
    let tarPath: string;
    let rec: { digest: string };
    let imageRef: string;
    if (debian) {
      tarPath = debian;
      imageRef = 'bench-debian:12';
      rec = (await importArchive(store, debian, imageRef)).record;
      ctx.note(`second zone: the cached Debian 12 image ${debian}`);
    } else {
      tarPath = join(work, 'oci.tar');
      execFileSync('tar', ['-C', join(work, 'oci'), '-cf', tarPath, '.']);
      imageRef = ref;
      rec = await pullImage(store, parseImageRef(ref));
      ctx.note('second zone: the pulled busybox image (no cached Debian image: scripts/debian-rootfs.sh makes one)');
    }
    const imageMB = statSync(tarPath).size / 1e6;
    const zone = (n: string) => ({ name: n, rootfs: { type: 'store', ref: imageRef, digest: rec.digest }, network: { mode: 'none' } });
    await createZone(zone('first'), { env });
    const ms: number[] = [];
    const diskMs: number[] = [];
    const zoneKiB: number[] = [];
    const storeKiB: number[] = [];
    for (let i = 0; i < creates; i++) {
      const before = allocated(store.dir);
      const t0 = performance.now();
      await createZone(zone(`second${i}`), { env });
      ms.push(performance.now() - t0);
      zoneKiB.push(allocated(join(env.LXZONE_STATE_DIR, 'zones', `second${i}`)) / 1024);
      storeKiB.push((allocated(store.dir) - before) / 1024);
      // Where the time goes: the zone's disk alone, as create makes it (a copy of the template made by the first zone's).
      const disk = join(work, `disk-${i}.img`);
      const t1 = performance.now();
      await createDiskImage(disk, DEFAULT_COW_DISK_BYTES, { templatesDir: join(env.LXZONE_STATE_DIR, 'disk-templates') });
      diskMs.push(performance.now() - t1);
      rmSync(disk, { force: true });
    }
    // The tar file itself named (create --image FILE.tar): the first such
    // create imports it into the store (reads and hashes it: the image is
    // there already, so nothing new is stored); later ones find the file
    // unchanged (its source record) and take the stored image, reading nothing.
    const fileMs: number[] = [];
    let firstFileMs: number | undefined;
    for (let i = 0; i < (quick ? 2 : 4); i++) {
      const t0 = performance.now();
      await createZone({ name: `fromfile${i}`, rootfs: { type: 'image', path: tarPath }, network: { mode: 'none' } }, { env });
      if (i === 0) firstFileMs = performance.now() - t0;
      else fileMs.push(performance.now() - t0);
    }
    const what = `create of a second zone of ${debian ? 'the Debian 12 image' : 'the busybox image'} (${imageMB.toFixed(0)} MB tar)`;
    ctx.rows.push(row(what, 'lxzone, image store', 'ms', ms, 'overlay of the shared layers, upper layer on a disk copied from a template'));
    ctx.rows.push(row(what, 'lxzone, from the tar file', 'ms', fileMs, 'create --image FILE.tar of a file imported before: the stored image, the file not read'));
    ctx.rows.push(row('  the first create from the tar file', 'lxzone, from the tar file', 'ms', firstFileMs === undefined ? [] : [firstFileMs], 'reads and hashes the tar (its image already stored)'));
    ctx.rows.push(row('  of which: its 2 GiB disk image (copy of the template)', 'alone', 'ms', diskMs));
    ctx.rows.push(row('  new disk: the zone\'s directory (config, sparse disk image)', 'lxzone, image store', 'KiB', zoneKiB));
    ctx.rows.push(row('  new disk: the image store', 'lxzone, image store', 'KiB', storeKiB));
    const msMed = median(ms);
    const kibMed = median(zoneKiB);
    ctx.checks.push(checkAtMost('second zone of a pulled image created in under 100 ms', msMed, 100, 'ms'));
    ctx.checks.push(checkAtMost('second zone of a pulled image adds under 1 MB of disk', kibMed === null ? null : kibMed * 1024, 1e6, 'bytes'));
  } finally {
    await reg.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
