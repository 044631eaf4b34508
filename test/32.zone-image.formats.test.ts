// The three image formats, built here from the host's busybox: a plain
// rootfs tar, a `docker save` archive and an OCI image layout (gzip layers),
// the last two with a second layer that carries a whiteout and an opaque
// directory. Each unpacked root is then run (chroot as root).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { detectImageFormat, unpackImage } from '../src/zone/image/index.js';
import { describeUnless, itUnless, rootOnly } from './support/skip.js';

const SHIM_BUILT = existsSync(new URL('../build/Release/lxzone-shim', import.meta.url));

const BUSYBOX = ['/usr/bin/busybox', '/bin/busybox'].find((p) => existsSync(p));
const isRoot = process.getuid?.() === 0;

let dir: string;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const gnuTar = (cwd: string, out: string) =>
  execFileSync('tar', ['--numeric-owner', '--owner=0', '--group=0', '--sort=name', '-C', cwd, '-cf', out, '.']);

/** A minimal runnable root: busybox, the libraries ldd names, a few applets. */
function buildBaseRoot(root: string): void {
  mkdirSync(join(root, 'bin'), { recursive: true });
  copyFileSync(BUSYBOX as string, join(root, 'bin/busybox'));
  execFileSync('chmod', ['755', join(root, 'bin/busybox')]);
  for (const applet of ['sh', 'ls', 'cat', 'echo', 'id', 'touch', 'stat']) symlinkSync('busybox', join(root, 'bin', applet));
  const ldd = execFileSync('ldd', [BUSYBOX as string], { encoding: 'utf8' });
  for (const m of ldd.matchAll(/(\/\S+\.so[.\d]*)/g)) {
    const lib = m[1] as string;
    mkdirSync(join(root, dirname(lib)), { recursive: true });
    copyFileSync(lib, join(root, lib));
  }
  mkdirSync(join(root, 'etc'));
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n');
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\napp:x:1000:\n');
  mkdirSync(join(root, 'opt/old'), { recursive: true });
  writeFileSync(join(root, 'opt/old/a'), 'lower');
  for (const d of ['proc', 'dev', 'sys', 'root']) mkdirSync(join(root, d));
  mkdirSync(join(root, 'tmp'), { mode: 0o1777 });
  execFileSync('chmod', ['1777', join(root, 'tmp')]);
}

/** The upper layer: a new file, a whiteout for /bin/ls, an opaque /opt/old. */
function buildUpperLayer(root: string): void {
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(join(root, 'etc/motd'), 'upper layer\n');
  mkdirSync(join(root, 'bin'));
  writeFileSync(join(root, 'bin/.wh.ls'), '');
  mkdirSync(join(root, 'opt/old'), { recursive: true });
  writeFileSync(join(root, 'opt/old/.wh..wh..opq'), '');
  writeFileSync(join(root, 'opt/old/new'), 'upper');
}

const imageConfig = {
  architecture: 'amd64',
  os: 'linux',
  config: { Env: ['PATH=/bin', 'GREETING=hello'], Cmd: ['/bin/sh'], WorkingDir: '/tmp', User: 'app' },
  rootfs: { type: 'layers', diff_ids: [] },
};

let rootTar: string;
let dockerTar: string;
let ociTar: string;

beforeAll(() => {
  if (!BUSYBOX) return;
  dir = mkdtempSync(join(tmpdir(), 'lxz-32f-'));
  const base = join(dir, 'base');
  const upper = join(dir, 'upper');
  buildBaseRoot(base);
  buildUpperLayer(upper);
  rootTar = join(dir, 'rootfs.tar');
  gnuTar(base, rootTar);
  const upperTar = join(dir, 'upper.tar');
  gnuTar(upper, upperTar);

  // docker save: manifest.json, <config>.json, <id>/layer.tar
  const d = join(dir, 'docker');
  const cfg = Buffer.from(JSON.stringify(imageConfig));
  mkdirSync(join(d, 'l1'), { recursive: true });
  mkdirSync(join(d, 'l2'));
  copyFileSync(rootTar, join(d, 'l1/layer.tar'));
  copyFileSync(upperTar, join(d, 'l2/layer.tar'));
  writeFileSync(join(d, `${sha(cfg)}.json`), cfg);
  writeFileSync(
    join(d, 'manifest.json'),
    JSON.stringify([{ Config: `${sha(cfg)}.json`, RepoTags: ['lxzone/busybox:test'], Layers: ['l1/layer.tar', 'l2/layer.tar'] }]),
  );
  writeFileSync(join(d, 'repositories'), JSON.stringify({ 'lxzone/busybox': { test: 'l2' } }));
  dockerTar = join(dir, 'docker.tar');
  gnuTar(d, dockerTar);

  // OCI image layout: gzip layers, config and manifest as blobs, index.json
  const o = join(dir, 'oci');
  mkdirSync(join(o, 'blobs/sha256'), { recursive: true });
  const blob = (b: Buffer, mediaType: string) => {
    writeFileSync(join(o, 'blobs/sha256', sha(b)), b);
    return { mediaType, digest: `sha256:${sha(b)}`, size: b.length };
  };
  const l1 = blob(gzipSync(readFileSync(rootTar)), 'application/vnd.oci.image.layer.v1.tar+gzip');
  const l2 = blob(gzipSync(readFileSync(upperTar)), 'application/vnd.oci.image.layer.v1.tar+gzip');
  const c = blob(cfg, 'application/vnd.oci.image.config.v1+json');
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: c, layers: [l1, l2] }));
  const m = blob(manifest, 'application/vnd.oci.image.manifest.v1+json');
  writeFileSync(
    join(o, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ ...m, platform: { os: 'linux', architecture: 'amd64' }, annotations: { 'org.opencontainers.image.ref.name': 'test' } }],
    }),
  );
  writeFileSync(join(o, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  ociTar = join(dir, 'oci.tar');
  gnuTar(o, ociTar);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function runIn(root: string, script: string): string {
  return execFileSync('/usr/sbin/chroot', [root, '/bin/sh', '-c', script], { encoding: 'utf8', env: { PATH: '/bin' } });
}

describeUnless(BUSYBOX ? undefined : 'busybox is not installed (apt-get install busybox; .ci/run does)', 'image formats', () => {
  it('detects each format', () => {
    expect(detectImageFormat(rootTar)).toBe('rootfs');
    expect(detectImageFormat(dockerTar)).toBe('docker');
    expect(detectImageFormat(ociTar)).toBe('oci');
  });

  it('unpacks a plain rootfs tar that runs', () => {
    const r = unpackImage(rootTar, join(dir, 'u-rootfs'));
    expect(r).toMatchObject({ format: 'rootfs', layers: 1, warnings: [], refs: [] });
    expect(r.config).toBeUndefined();
    expect(lstatSync(join(dir, 'u-rootfs/tmp')).mode & 0o7777).toBe(0o1777);
    if (isRoot) {
      expect(runIn(join(dir, 'u-rootfs'), 'echo hi; ls /opt/old')).toBe('hi\na\n');
      expect(lstatSync(join(dir, 'u-rootfs/bin/busybox')).uid).toBe(100000);
    }
  });

  for (const fmt of ['docker', 'oci'] as const) {
    it(`unpacks a ${fmt} archive, layers in order with whiteouts`, () => {
      const dest = join(dir, `u-${fmt}`);
      const r = unpackImage(fmt === 'docker' ? dockerTar : ociTar, dest);
      expect(r.format).toBe(fmt);
      expect(r.layers).toBe(2);
      expect(r.refs).toEqual(fmt === 'docker' ? ['lxzone/busybox:test'] : ['test']);
      expect(r.config).toEqual({ env: { PATH: '/bin', GREETING: 'hello' }, cmd: ['/bin/sh'], workingDir: '/tmp', user: 'app' });
      expect(readFileSync(join(dest, 'etc/motd'), 'utf8')).toBe('upper layer\n');
      expect(existsSync(join(dest, 'bin/ls'))).toBe(false); // whiteout
      expect(existsSync(join(dest, 'bin/.wh.ls'))).toBe(false);
      expect(readdirSync(join(dest, 'opt/old'))).toEqual(['new']); // opaque: lower 'a' gone
      expect(readFileSync(join(dest, 'etc/passwd'), 'utf8')).toMatch(/^root:/); // lower layer kept
      if (isRoot) expect(runIn(dest, 'cat /etc/motd; id -u')).toBe('upper layer\n0\n');
      // Nothing but the destination in the parent: the temp dir is gone.
      expect(readdirSync(dir).filter((n) => n.startsWith('.'))).toEqual([]);
    });
  }

  it('checks OCI blobs against their digests', () => {
    const o = join(dir, 'oci-bad');
    mkdirSync(o);
    execFileSync('tar', ['-C', o, '-xf', ociTar]);
    const blobs = join(o, 'blobs/sha256');
    const layer = readdirSync(blobs).find((n) => readFileSync(join(blobs, n))[0] === 0x1f) as string;
    const bytes = readFileSync(join(blobs, layer));
    bytes[bytes.length - 20] ^= 0xff;
    writeFileSync(join(blobs, layer), bytes);
    const bad = join(dir, 'oci-bad.tar');
    gnuTar(o, bad);
    expect(() => unpackImage(bad, join(dir, 'u-bad'))).toThrow(/reading its manifest: layer \d sha256:[0-9a-f]{64}: content does not match its digest/);
    expect(existsSync(join(dir, 'u-bad'))).toBe(false);
  });

  it('asks which image when a docker archive holds several', () => {
    const d = join(dir, 'docker2');
    mkdirSync(d);
    execFileSync('tar', ['-C', d, '-xf', dockerTar]);
    const list = JSON.parse(readFileSync(join(d, 'manifest.json'), 'utf8'));
    list.push({ ...list[0], RepoTags: ['other:1'], Layers: ['l1/layer.tar'] });
    writeFileSync(join(d, 'manifest.json'), JSON.stringify(list));
    const two = join(dir, 'docker2.tar');
    gnuTar(d, two);
    expect(() => unpackImage(two, join(dir, 'u-two'))).toThrow(/holds 2 images; choose one with rootfs.ref \(lxzone\/busybox:test, other:1\)/);
    const r = unpackImage(two, join(dir, 'u-two'), { ref: 'other:1' });
    expect(r.layers).toBe(1);
    expect(existsSync(join(dir, 'u-two/bin/ls'))).toBe(true);
    expect(() => unpackImage(two, join(dir, 'u-three'), { ref: 'nope' })).toThrow(/no image tagged "nope"/);
  });

  // The point of the id shift: in a zone (zone uid 0 = host uid 100000) the
  // image's root owns the image's files and can write them.
  itUnless(rootOnly() ?? (SHIM_BUILT ? undefined : 'the shim is not built (npm run build)'), 'gives a zone whose root owns its files', async () => {
    const { runZone } = await import('../src/zone/run.js');
    const res = await runZone({
      argv: ['/bin/sh', '-c', 'id -u; stat -c %u:%g /bin/busybox /etc/motd; touch /root/x && echo wrote'],
      rootfs: join(dir, 'u-docker'),
      rootfsWritable: true,
      stdio: 'pipe',
    });
    expect(String(res.stderr)).toBe('');
    expect(String(res.stdout)).toBe('0\n0:0\n0:0\nwrote\n');
    expect(res.exitCode).toBe(0);
    expect(lstatSync(join(dir, 'u-docker/root/x')).uid).toBe(100000);
  });
});
