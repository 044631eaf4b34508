// The image store against a real registry on the loopback interface
// (Debian's docker-registry, started here; images pushed by skopeo from OCI
// layouts built here): pull through a multi-arch index, digest pinning,
// layers unpacked once with overlayfs whiteouts, a bearer-token front with
// credentials from DOCKER_CONFIG, a registry that lies (digest, size, a
// manifest that points nowhere) refused with nothing left in the store,
// rmi / prune / save / import, and the CLI's errors.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImageStore } from '../src/zone/image/store/images.js';
import { lxzoneInProcess as lxzone } from './support/cli-in-process.js';
import { busyboxRoot, freePort, describeWithRegistry, ociLayout, push, startBlobProxy, startRegistry, startTokenFront, upperLayer, type Registry } from './support/registry.js';


let work: string;
let reg: Registry;
let amdManifest: string;
const saved: Record<string, string | undefined> = {};
const setEnv = (k: string, v: string | undefined) => {
  if (!(k in saved)) saved[k] = process.env[k];
  if (v === undefined) delete process.env[k];
  else process.env[k] = v;
};
const images = () => join(work, 'state/images');
const blobFiles = () => readdirSync(join(images(), 'blobs/sha256'));

describeWithRegistry('image store: pull from a real registry', () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'lxzone-33-'));
    busyboxRoot(join(work, 'l1'));
    upperLayer(join(work, 'l2'));
    amdManifest = ociLayout(join(work, 'oci'), [join(work, 'l1'), join(work, 'l2')], 'v1', true).manifest;
    reg = await startRegistry(work);
    push(join(work, 'oci'), 'v1', `${reg.host}/busybox:v1`);
    setEnv('LXZONE_STATE_DIR', join(work, 'state'));
    setEnv('LXZONE_RUNTIME_DIR', join(work, 'run'));
    setEnv('DOCKER_CONFIG', join(work, 'docker'));
  }, 120_000);

  afterAll(async () => {
    await reg?.stop();
    for (const [k, v] of Object.entries(saved)) setEnv(k, v);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('pulls through a multi-arch index: the host\'s image, its layers unpacked once with overlayfs whiteouts', async () => {
    const r = await lxzone('pull', `${reg.host}/busybox:v1`);
    expect(r.stderr).toMatch(/downloaded/);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(amdManifest);
    const list = JSON.parse((await lxzone('images', '--json')).stdout) as { digest: string; refs: string[]; platform: { architecture: string }; image: { env: Record<string, string> } }[];
    expect(list).toHaveLength(1);
    expect(list[0]?.digest).toBe(amdManifest);
    expect(list[0]?.platform.architecture).toBe('amd64');
    expect(list[0]?.refs).toEqual([`${reg.host}/busybox:v1`]);
    expect(list[0]?.image.env.GREETING).toBe('hello from the image');
    const layers = readdirSync(join(images(), 'layers')).filter((d) => !d.startsWith('.'));
    expect(layers).toHaveLength(2);
    // The upper layer holds its own files only, and a whiteout device for etc/gone.
    const upper = layers.map((l) => join(images(), 'layers', l)).find((d) => existsSync(join(d, 'etc/motd'))) as string;
    const wh = lstatSync(join(upper, 'etc/gone'));
    expect(wh.isCharacterDevice()).toBe(true);
    expect(wh.rdev).toBe(0);
    expect(existsSync(join(upper, 'bin'))).toBe(false);
    expect(existsSync(join(upper, 'opt/old/.wh..wh..opq'))).toBe(false);
    // A second pull downloads nothing.
    const again = await lxzone('pull', `${reg.host}/busybox:v1`);
    expect(again.code).toBe(0);
    expect(again.stderr).not.toMatch(/downloading/);
    expect(again.stderr).toMatch(/exists/);
  }, 60_000);

  it('pins by digest, and refuses a digest the registry does not have', async () => {
    const r = await lxzone('pull', '--quiet', `${reg.host}/busybox@${amdManifest}`);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(amdManifest);
    const bad = `sha256:${'0'.repeat(64)}`;
    const miss = await lxzone('pull', `${reg.host}/busybox@${bad}`);
    expect(miss.code).toBe(1);
    expect(miss.stderr).toBe(`lxzone: ${reg.host}/busybox: manifest ${bad}: not found (HTTP 404)\n`);
  }, 60_000);

  it('reports progress as JSON lines with --json', async () => {
    await lxzone('rmi', `${reg.host}/busybox:v1`, `${reg.host}/busybox@${amdManifest}`);
    await lxzone('image', 'prune');
    const r = await lxzone('pull', '--json', `${reg.host}/busybox:v1`);
    expect(r.code).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; status?: string });
    expect(events[0]?.type).toBe('resolved');
    expect(events.filter((e) => e.status === 'downloaded')).toHaveLength(2);
    expect(events.at(-1)?.type).toBe('done');
  }, 60_000);

  it('pulls through a bearer-token front with credentials from DOCKER_CONFIG, and is refused without them', async () => {
    const front = await startTokenFront(reg.host, 'alice', 's3cret');
    try {
      mkdirSync(join(work, 'docker'), { recursive: true });
      writeFileSync(join(work, 'docker/config.json'), '{}');
      const denied = await lxzone('pull', `${front.host}/busybox:v1`);
      expect(denied.code).toBe(1);
      expect(denied.stderr).toMatch(new RegExp(`^lxzone: ${front.host}/busybox: manifest v1: the token service http://${front.host} refused \\(HTTP 401\\); no credentials`));
      const auth = Buffer.from('alice:s3cret').toString('base64');
      writeFileSync(join(work, 'docker/config.json'), JSON.stringify({ auths: { [`http://${front.host}`]: { auth } } }));
      const ok = await lxzone('pull', `${front.host}/busybox:v1`);
      expect(ok.code).toBe(0);
      expect(front.tokens()).toBeGreaterThan(0);
      expect((await lxzone('images')).stdout).toContain(`${front.host}/busybox:v1`);
      // The same image under two names: rmi of one only untags it.
      expect((await lxzone('rmi', `${front.host}/busybox:v1`)).stdout).toBe(`untagged ${front.host}/busybox:v1\n`);
    } finally {
      await front.stop();
      rmSync(join(work, 'docker'), { recursive: true, force: true });
    }
  }, 60_000);

  it('gets credentials from a docker-credential helper (credHelpers, then credsStore), as docker does', async () => {
    const front = await startTokenFront(reg.host, 'bob', 'from-helper');
    const bin = join(work, 'bin');
    const asked = join(work, 'helper-asked');
    mkdirSync(bin, { recursive: true });
    // A helper of docker-credential-helpers' protocol: `get`, the server URL on stdin, JSON out.
    writeFileSync(join(bin, 'docker-credential-lxtest'), `#!/bin/sh\nread -r server\necho "$1 $server" >> ${asked}\nif [ "$server" = "${front.host}" ]; then echo '{"ServerURL":"${front.host}","Username":"bob","Secret":"from-helper"}'; else echo 'credentials not found in native keychain'; exit 1; fi\n`, { mode: 0o755 });
    writeFileSync(join(bin, 'docker-credential-broken'), '#!/bin/sh\necho "the keychain is locked" >&2\nexit 3\n', { mode: 0o755 });
    setEnv('PATH', `${bin}:${process.env.PATH}`);
    mkdirSync(join(work, 'docker'), { recursive: true });
    const config = (c: object) => writeFileSync(join(work, 'docker/config.json'), JSON.stringify(c));
    try {
      config({ credHelpers: { [front.host]: 'lxtest' }, credsStore: 'broken' });
      const viaHelper = await lxzone('pull', '--quiet', `${front.host}/busybox:v1`);
      expect(viaHelper.stderr).toBe('');
      expect(viaHelper.code).toBe(0);
      expect(readFileSync(asked, 'utf8').split('\n')[0]).toBe(`get ${front.host}`);
      config({ credsStore: 'lxtest', auths: { [front.host]: {} } });
      expect((await lxzone('pull', '--quiet', `${front.host}/busybox:v1`)).code).toBe(0);
      // No credentials stored for a registry: anonymous (the loopback registry needs none).
      expect((await lxzone('pull', '--quiet', `${reg.host}/busybox:v1`)).code).toBe(0);
      config({ credsStore: 'broken' });
      const broken = await lxzone('pull', `${front.host}/busybox:v1`);
      expect(broken.code).toBe(1);
      expect(broken.stderr).toBe(`lxzone: credential helper docker-credential-broken failed for ${front.host} (exit 3): the keychain is locked\n`);
      config({ credsStore: 'absent' });
      const absent = await lxzone('pull', `${front.host}/busybox:v1`);
      expect(absent.stderr).toBe(`lxzone: ${join(work, 'docker/config.json')} names the credential helper docker-credential-absent, which is not in PATH\n`);
      expect(front.tokens()).toBeGreaterThan(0);
    } finally {
      await front.stop();
      rmSync(join(work, 'docker'), { recursive: true, force: true });
      await lxzone('rmi', `${front.host}/busybox:v1`);
    }
  }, 60_000);

  it('resumes an interrupted download from its partial blob with an HTTP Range, and prune keeps the partial files of a pull in progress', async () => {
    const big = join(work, 'l-big');
    mkdirSync(big, { recursive: true });
    writeFileSync(join(big, 'big'), randomBytes(4 << 20)); // does not compress: the layer blob is > 4 MiB
    const { manifest } = ociLayout(join(work, 'oci-big'), [join(work, 'l1'), big], 'v1');
    const layer = (JSON.parse(readFileSync(join(work, 'oci-big/blobs/sha256', manifest.slice(7)), 'utf8')) as { layers: { digest: string; size: number }[] }).layers[1]!;
    push(join(work, 'oci-big'), 'v1', `${reg.host}/big:v1`);
    const proxy = await startBlobProxy(reg.host);
    const ref = `${proxy.host}/big:v1`;
    const partial = join(images(), 'blobs/sha256', `${layer.digest.slice(7)}.partial`);
    const blobAsks = () => proxy.requests.filter((r) => r.url.endsWith(`/blobs/${layer.digest}`));
    try {
      // The connection breaks after 1 MiB of the layer: the pull fails, its partial file stays.
      proxy.cutAfter(layer.digest, 1 << 20);
      const cut = await lxzone('pull', ref);
      expect(cut.stderr).toMatch(new RegExp(`\\nlxzone: ${proxy.host}/big: layer: the download broke after \\d+ of ${layer.size} bytes \\(.*\\); pull again to resume it\n$`));
      expect(cut.code).toBe(1);
      const kept = statSync(partial).size;
      expect(kept).toBeGreaterThan(0);
      expect(kept).toBeLessThanOrEqual(1 << 20);
      expect((await lxzone('images')).stdout).not.toContain('big');
      // The next pull asks the real registry for the rest only, and verifies the whole.
      const again = await lxzone('pull', ref);
      expect(again.code).toBe(0);
      expect(blobAsks().at(-1)).toMatchObject({ range: `bytes=${kept}-`, status: 206 });
      expect(existsSync(partial)).toBe(false);
      expect(blobFiles()).toContain(layer.digest.slice(7));

      // A pull in progress (held after 1 MiB of the layer): prune leaves its partial file alone.
      await lxzone('rmi', ref);
      await lxzone('image', 'prune');
      expect(blobFiles().filter((f) => f.startsWith(layer.digest.slice(7)))).toEqual([]);
      const stall = proxy.stallAfter(layer.digest, 1 << 20);
      const pulling = lxzone('pull', ref);
      await stall.reached;
      for (let i = 0; i < 200 && !(existsSync(partial) && statSync(partial).size > 0); i++) await new Promise((r) => setTimeout(r, 50));
      const store = new ImageStore({ stateDir: join(work, 'state'), runtimeDir: join(work, 'run') });
      const pruned = await store.locked('prune', () => store.prune());
      expect(pruned.keptPartial).toBe(1);
      expect(existsSync(partial)).toBe(true);
      stall.release();
      const done = await pulling;
      expect(done.stderr).not.toContain("lxzone:");
      expect(done.code).toBe(0);
      expect(blobFiles()).toContain(layer.digest.slice(7));
      // With no pull running, a partial file is prune's to remove.
      writeFileSync(partial, 'left by a pull that died');
      expect((await store.locked('prune', () => store.prune())).keptPartial).toBe(0);
      expect(existsSync(partial)).toBe(false);
    } finally {
      await proxy.stop();
      await lxzone('rmi', ref);
    }
  }, 120_000);

  it('sends a request again when the registry closed its kept-alive connection while idle', async () => {
    const proxy = await startBlobProxy(reg.host);
    const ref = `${proxy.host}/busybox:v1`;
    try {
      // The connections of the next two requests are closed unanswered (the first
      // is the manifest's; the retried one too): each is sent again, the pull goes on.
      proxy.closeNext(2);
      const r = await lxzone('pull', '--quiet', ref);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(proxy.dropped()).toBe(2);
      expect(proxy.requests.map((q) => q.url)).toEqual(['/v2/busybox/manifests/v1', `/v2/busybox/manifests/${amdManifest}`]);
    } finally {
      await proxy.stop();
      await lxzone('rmi', ref);
    }
  }, 60_000);

  describe('a registry that lies', () => {
    let server: Server;
    let host: string;
    const routes = new Map<string, { type?: string; body: Buffer; digestHeader?: string }>();
    const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
    const manifestFor = (layer: { digest: string; size: number }, config: Buffer) =>
      Buffer.from(JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
      }));
    const config = Buffer.from('{"os":"linux","architecture":"amd64","config":{}}');
    const layer = Buffer.from('not really a layer, and not what its digest says');

    beforeAll(async () => {
      const port = await freePort();
      host = `127.0.0.1:${port}`;
      server = createServer((req, res) => {
        const r = routes.get(req.url ?? '');
        if (!r) {
          res.writeHead(404).end();
          return;
        }
        res.writeHead(200, { 'content-type': r.type ?? 'application/octet-stream', ...(r.digestHeader ? { 'docker-content-digest': r.digestHeader } : {}) }).end(r.body);
      });
      // Idle connections kept open between tests: a client whose pooled
      // connection the server closed meanwhile (a slow test on a loaded host) gets ECONNRESET.
      server.keepAliveTimeout = 300_000;
      await new Promise<void>((ok) => server.listen(port, '127.0.0.1', ok));
      routes.set(`/v2/liar/blobs/${sha(config)}`, { body: config });
    });
    afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

    const expectNothingOf = (digests: string[]) => {
      const left = blobFiles();
      for (const d of digests) expect(left.filter((f) => f.startsWith(d.slice(7)))).toEqual([]);
      expect(Object.keys(JSON.parse(readFileSync(join(images(), 'refs.json'), 'utf8')) as object).filter((r) => r.includes('liar'))).toEqual([]);
    };

    it('a layer whose content is not its digest', async () => {
      const claimed = `sha256:${'a'.repeat(64)}`;
      routes.set('/v2/liar/manifests/digest', { type: 'application/vnd.oci.image.manifest.v1+json', body: manifestFor({ digest: claimed, size: layer.length }, config) });
      routes.set(`/v2/liar/blobs/${claimed}`, { body: layer });
      const r = await lxzone('pull', `${host}/liar:digest`);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`layer ${claimed}: content does not match its digest (got ${sha(layer)})`);
      expectNothingOf([claimed]);
    });

    it('a layer longer than the manifest says', async () => {
      routes.set('/v2/liar/manifests/size', { type: 'application/vnd.oci.image.manifest.v1+json', body: manifestFor({ digest: sha(layer), size: 10 }, config) });
      routes.set(`/v2/liar/blobs/${sha(layer)}`, { body: layer });
      const r = await lxzone('pull', `${host}/liar:size`);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('the registry sent more than the 10 bytes the manifest gives');
      expectNothingOf([sha(layer)]);
    });

    it('a manifest that points nowhere, and one whose digest header lies', async () => {
      const nowhere = `sha256:${'b'.repeat(64)}`;
      routes.set('/v2/liar/manifests/nowhere', { type: 'application/vnd.oci.image.manifest.v1+json', body: manifestFor({ digest: nowhere, size: 5 }, config) });
      const r = await lxzone('pull', `${host}/liar:nowhere`);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`\nlxzone: ${host}/liar: layer: not found \\(HTTP 404\\)\n$`));
      const m = manifestFor({ digest: nowhere, size: 5 }, config);
      routes.set('/v2/liar/manifests/header', { type: 'application/vnd.oci.image.manifest.v1+json', body: m, digestHeader: `sha256:${'c'.repeat(64)}` });
      const h = await lxzone('pull', `${host}/liar:header`);
      expect(h.code).toBe(1);
      expect(h.stderr).toContain(`the registry says its digest is sha256:${'c'.repeat(64)} but its content is ${sha(m)}`);
      expectNothingOf([nowhere]);
    });

    // A layer served as the manifest says, but which is not a whole layer: its
    // blobs verify, its unpack is refused, and none of what the pull brought stays.
    const serveLayer = (tag: string, gz: Buffer) => {
      const own = Buffer.from(JSON.stringify({ os: 'linux', architecture: 'amd64', config: { Labels: { tag } } })); // brought by this pull alone
      routes.set(`/v2/liar/blobs/${sha(own)}`, { body: own });
      routes.set(`/v2/liar/manifests/${tag}`, { type: 'application/vnd.oci.image.manifest.v1+json', body: manifestFor({ digest: sha(gz), size: gz.length }, own) });
      routes.set(`/v2/liar/blobs/${sha(gz)}`, { body: gz });
      return { digest: sha(gz), config: sha(own) };
    };
    const tarGz = (dir: string) => gzipSync(execFileSync('tar', ['-C', dir, '-cf', '-', '.'], { maxBuffer: 256 << 20 }));
    const expectNoLayerLeft = ({ digest, config: cfg }: { digest: string; config: string }) => {
      expectNothingOf([digest, cfg]);
      expect(readdirSync(join(images(), 'layers')).filter((f) => f === digest.slice(7))).toEqual([]);
      expect(readdirSync(images()).filter((f) => f.startsWith('.unpack-'))).toEqual([]);
    };

    it('a truncated layer (the blob is whole, the layer in it is cut)', async () => {
      const dir = join(work, 'cut');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'data'), randomBytes(256 << 10));
      const whole = tarGz(dir);
      const served = serveLayer('cut', whole.subarray(0, whole.length >> 1));
      const r = await lxzone('pull', `${host}/liar:cut`);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`(^|\\n)lxzone: ${host}/liar: layer 0 \\(${served.digest}\\): .*(end of|truncated|unexpected)`, 'i'));
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expectNoLayerLeft(served);
    });

    it('a layer shorter than the manifest says', async () => {
      routes.set('/v2/liar/manifests/short', { type: 'application/vnd.oci.image.manifest.v1+json', body: manifestFor({ digest: sha(layer), size: layer.length + 100 }, config) });
      routes.set(`/v2/liar/blobs/${sha(layer)}`, { body: layer });
      const r = await lxzone('pull', `${host}/liar:short`);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`truncated: ${layer.length} of ${layer.length + 100} bytes`);
      expectNothingOf([sha(layer)]);
    });

    it('an image bomb: a layer that unpacks past the byte or the file limit', async () => {
      const big = join(work, 'bomb-bytes');
      mkdirSync(big, { recursive: true });
      writeFileSync(join(big, 'zeros'), Buffer.alloc(32 << 20)); // 32 MiB of zeros: ~32 KiB gzipped
      const many = join(work, 'bomb-files');
      mkdirSync(many, { recursive: true });
      for (let i = 0; i < 1500; i++) writeFileSync(join(many, `f${i}`), '');
      const bytes = serveLayer('bytes', tarGz(big));
      const files = serveLayer('files', tarGz(many));
      setEnv('LXZONE_IMAGE_MAX_BYTES', String(16 << 20));
      setEnv('LXZONE_IMAGE_MAX_FILES', '1000');
      try {
        const b = await lxzone('pull', `${host}/liar:bytes`);
        expect(b.code).toBe(1);
        expect(b.stderr).toMatch(new RegExp(`(^|\\n)lxzone: ${host}/liar: layer 0 \\(${bytes.digest}\\): .*16777216`));
        expectNoLayerLeft(bytes);
        const f = await lxzone('pull', `${host}/liar:files`);
        expect(f.code).toBe(1);
        expect(f.stderr).toMatch(new RegExp(`(^|\\n)lxzone: ${host}/liar: layer 0 \\(${files.digest}\\): .*1000`));
        expectNoLayerLeft(files);
      } finally {
        setEnv('LXZONE_IMAGE_MAX_BYTES', undefined);
        setEnv('LXZONE_IMAGE_MAX_FILES', undefined);
      }
    }, 60_000);

    it('a manifest that is not one', async () => {
      routes.set('/v2/liar/manifests/junk', { type: 'application/vnd.oci.image.manifest.v1+json', body: Buffer.from('{"schemaVersion":2,"layers":"no"}') });
      const r = await lxzone('pull', `${host}/liar:junk`);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^lxzone: 127\.0\.0\.1:\d+\/liar: manifest: manifest sha256:[a-f0-9]{64}: .*config/);
    });
  });

  it('imports an OCI image layout directory as it is (skopeo\'s oci:DIR), copying its blobs; refuses a directory that is not one', async () => {
    const layout = join(work, 'oci');
    const before = readdirSync(join(layout, 'blobs/sha256')).sort();
    const r = await lxzone('image', 'import', layout, 'local/dir:v1');
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^imported \S*local\/dir:v1: sha256:[0-9a-f]{64}\n$/);
    expect(r.code).toBe(0);
    expect(readdirSync(join(layout, 'blobs/sha256')).sort()).toEqual(before); // the caller's files stay where they were
    const img = JSON.parse((await lxzone('image', 'inspect', 'local/dir:v1')).stdout) as { image: { env: Record<string, string> }; platform: { architecture: string } };
    expect(img.image.env.GREETING).toBe('hello from the image');
    expect(img.platform.architecture).toBe('amd64');
    const bad = await lxzone('image', 'import', join(work, 'l1'));
    expect(bad.stderr).toBe(`lxzone: image ${join(work, 'l1')}: is a directory but not an OCI image layout (no oci-layout and index.json in it)\n`);
    expect(bad.code).toBe(1);
    expect((await lxzone('rmi', 'local/dir:v1')).code).toBe(0);
  }, 60_000);

  it('saves an image as an OCI layout and imports it back under another name, sharing its blobs', async () => {
    const out = join(work, 'saved.tar');
    const s = await lxzone('image', 'save', `${reg.host}/busybox:v1`, '-o', out);
    expect(s.code).toBe(0);
    const before = blobFiles().length;
    const i = await lxzone('image', 'import', out, 'copy/busybox:again');
    expect(i.code).toBe(0);
    expect(i.stdout).toMatch(/^imported copy\/busybox:again: sha256:/);
    expect(blobFiles().length).toBe(before); // same manifest, config and layers: nothing new
    const again = await lxzone('image', 'save', 'copy/busybox:again', '-o', out);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`lxzone: ${out} already exists\n`);
  }, 60_000);

  it('rmi untags, removes the last reference with its blobs and layers; prune leaves nothing', async () => {
    const inspect = JSON.parse((await lxzone('image', 'inspect', 'copy/busybox:again')).stdout) as { refs: string[]; rawConfig: { config: { Cmd: string[] } } };
    expect(inspect.refs.length).toBe(2);
    expect(inspect.rawConfig.config.Cmd[0]).toBe('/bin/sh');
    const r = await lxzone('rmi', 'copy/busybox:again');
    expect(r.stdout).toBe('untagged copy/busybox:again\n');
    const last = await lxzone('rmi', `${reg.host}/busybox:v1`);
    expect(last.stdout).toMatch(/^untagged .*\ndeleted sha256:/);
    await lxzone('image', 'prune');
    expect(JSON.parse((await lxzone('images', '--json')).stdout)).toEqual([]);
    expect(blobFiles()).toEqual([]);
    expect(readdirSync(join(images(), 'layers'))).toEqual([]);
    const gone = await lxzone('rmi', 'nothing:here');
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe('lxzone: image nothing:here: not in the image store (lxzone pull nothing:here, or lxzone image import)\n');
  }, 60_000);

  it('refuses a bad reference as a usage error', async () => {
    const r = await lxzone('pull', 'Bad/Name');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('lxzone: image reference "Bad/Name": the repository must be lowercase components (a-z, 0-9, separated by . _ __ or -) joined by /\n');
    const d = await lxzone('pull', 'busybox@sha256:1234');
    expect(d.code).toBe(2);
    expect(d.stderr).toContain('is not sha256: followed by 64 lowercase hex digits');
  });
});
