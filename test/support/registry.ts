// A real registry on the loopback interface for the image store's tests:
// Debian's docker-registry (distribution) with its own config file, storage
// in a temp directory and a free port, stopped and removed by stop(); images
// pushed into it by skopeo from OCI layouts built here from the host's
// busybox. Also a token-auth front: an HTTP server issuing bearer tokens
// (for the credentials it is given) and passing authorised requests on.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { createServer as netServer } from 'node:net';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describeUnless } from './skip.js';

export const REGISTRY_BIN = '/usr/bin/docker-registry';
export const SKOPEO = '/usr/bin/skopeo';
export const haveRegistryTools = () => existsSync(REGISTRY_BIN) && existsSync(SKOPEO);

/**
 * Why the image store's tests cannot run here, or undefined: a skip says
 * why on stderr and in the suite's name, never silently.
 */
export function registrySkipReason(o: { shim?: boolean } = {}): string | undefined {
  const missing = [REGISTRY_BIN, SKOPEO].filter((p) => !existsSync(p));
  if (missing.length > 0) return `${missing.join(' and ')} not installed (apt-get install docker-registry skopeo; .ci/run does)`;
  if (process.getuid?.() !== 0) return 'needs root (layers are unpacked with their owners and whiteout devices; zones need a loop-mounted disk)';
  if (o.shim && !existsSync(new URL('../../build/Release/lxzone-shim', import.meta.url))) return 'the shim is not built (npm run build)';
  return undefined;
}

/** describe(), or describe.skip() with the reason printed, for a suite that needs the registry tools. */
export function describeWithRegistry(name: string, fn: () => void, o: { shim?: boolean } = {}): void {
  describeUnless(registrySkipReason(o), name, fn);
}
const BUSYBOX = ['/usr/bin/busybox', '/bin/busybox'].find((p) => existsSync(p)) as string;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = netServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

async function waitUp(url: string, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited: ${log()}`);
    try {
      const r = await fetch(url);
      await r.body?.cancel();
      if (r.status === 200 || r.status === 401) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry did not answer at ${url}: ${log()}`);
}

export interface Registry {
  host: string;
  stop(): Promise<void>;
}

export async function startRegistry(work: string): Promise<Registry> {
  const port = await freePort();
  const dir = join(work, `registry-${port}`);
  mkdirSync(join(dir, 'storage'), { recursive: true });
  const cfg = join(dir, 'config.yml');
  writeFileSync(
    cfg,
    `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/storage\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n  secret: ${randomBytes(8).toString('hex')}\n`,
  );
  const child = spawn(REGISTRY_BIN, ['serve', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (d) => (out += String(d)));
  child.stderr?.on('data', (d) => (out += String(d)));
  await waitUp(`http://127.0.0.1:${port}/v2/`, child, () => out);
  return {
    host: `127.0.0.1:${port}`,
    stop: async () => {
      if (child.exitCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await gone;
      }
    },
  };
}

/** A token-auth front for `upstream`: /token issues a bearer token for user:pass; everything else needs it. */
export async function startTokenFront(upstream: string, user: string, pass: string): Promise<{ host: string; tokens: () => number; stop(): Promise<void> }> {
  const port = await freePort();
  const token = randomBytes(16).toString('hex');
  let issued = 0;
  const server: Server = createServer((req, res) => {
    if (req.url?.startsWith('/token')) {
      const want = `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
      if (req.headers.authorization !== want) {
        res.writeHead(401).end();
        return;
      }
      issued++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token }));
      return;
    }
    if (req.headers.authorization !== `Bearer ${token}`) {
      res
        .writeHead(401, { 'www-authenticate': `Bearer realm="http://127.0.0.1:${port}/token",service="test-registry",scope="repository:busybox:pull"`, 'content-type': 'application/json' })
        .end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      return;
    }
    const [h, p] = upstream.split(':');
    const up = request({ host: h, port: Number(p), path: req.url, method: req.method, headers: { ...req.headers, host: upstream } }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    host: `127.0.0.1:${port}`,
    tokens: () => issued,
    stop: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

/** A minimal runnable root: busybox, the libraries ldd names, a few applets, /etc/passwd. */
export function busyboxRoot(root: string): void {
  mkdirSync(join(root, 'bin'), { recursive: true });
  copyFileSync(BUSYBOX, join(root, 'bin/busybox'));
  execFileSync('chmod', ['755', join(root, 'bin/busybox')]);
  for (const applet of ['sh', 'ls', 'cat', 'echo', 'id', 'touch', 'stat', 'df', 'env', 'pwd', 'rm']) symlinkSync('busybox', join(root, 'bin', applet));
  const ldd = execFileSync('ldd', [BUSYBOX], { encoding: 'utf8' });
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
  writeFileSync(join(root, 'etc/gone'), 'whited out above');
  for (const d of ['proc', 'dev', 'sys', 'root', 'home/app']) mkdirSync(join(root, d), { recursive: true });
  mkdirSync(join(root, 'tmp'), { mode: 0o1777 });
  execFileSync('chmod', ['1777', join(root, 'tmp')]);
}

/** The upper layer: a new file, a whiteout of /etc/gone, an opaque /opt/old. */
export function upperLayer(root: string): void {
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(join(root, 'etc/motd'), 'upper layer\n');
  writeFileSync(join(root, 'etc/.wh.gone'), '');
  mkdirSync(join(root, 'opt/old'), { recursive: true });
  writeFileSync(join(root, 'opt/old/.wh..wh..opq'), '');
  writeFileSync(join(root, 'opt/old/new'), 'upper');
}

const hex = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export const TEST_IMAGE_CONFIG = { Env: ['PATH=/bin', 'GREETING=hello from the image'], Cmd: ['/bin/sh', '-c', 'echo $GREETING; pwd; id -u'], WorkingDir: '/home/app', User: 'app' };

/**
 * An OCI image layout at `out` (tag `tag`) from layer directories (gzip
 * layers); with `otherArch`, an index holding an arm64 image as well;
 * `imageConfig` is the config's `config` (Env, Cmd, Volumes, …).
 */
export function ociLayout(out: string, layerDirs: string[], tag: string, otherArch = false, imageConfig: object = TEST_IMAGE_CONFIG): { manifest: string } {
  mkdirSync(join(out, 'blobs/sha256'), { recursive: true });
  const put = (b: Buffer) => {
    const h = hex(b);
    writeFileSync(join(out, 'blobs/sha256', h), b);
    return { digest: `sha256:${h}`, size: b.length };
  };
  const layers = layerDirs.map((d) => {
    const plain = execFileSync('tar', ['--numeric-owner', '--owner=0', '--group=0', '--sort=name', '-C', d, '-cf', '-', '.'], { maxBuffer: 1 << 30 });
    return { plain, gz: gzipSync(plain) };
  });
  const layerDescs = layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...put(l.gz) }));
  const image = (arch: string) => {
    const config = put(Buffer.from(JSON.stringify({ architecture: arch, os: 'linux', config: imageConfig, rootfs: { type: 'layers', diff_ids: layers.map((l) => `sha256:${hex(l.plain)}`) } })));
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers: layerDescs }));
    return { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...put(manifest), platform: { os: 'linux', architecture: arch } };
  };
  const amd = image('amd64');
  let top: Record<string, unknown> = { ...amd, annotations: { 'org.opencontainers.image.ref.name': tag } };
  if (otherArch) {
    const idx = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [image('arm64'), amd] }));
    top = { mediaType: 'application/vnd.oci.image.index.v1+json', ...put(idx), annotations: { 'org.opencontainers.image.ref.name': tag } };
  }
  writeFileSync(join(out, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(join(out, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [top] }));
  return { manifest: amd.digest };
}

/** skopeo copy of an OCI layout into the registry (all platforms). */
export function push(layout: string, tag: string, dest: string): void {
  execFileSync(SKOPEO, ['--insecure-policy', 'copy', '--all', '--quiet', '--dest-tls-verify=false', `oci:${layout}:${tag}`, `docker://${dest}`], { stdio: ['ignore', 'ignore', 'pipe'] });
}

export interface BlobProxy {
  host: string;
  /** Each request passed on: its path, Range header and the registry's status. */
  requests: { url: string; range: string | undefined; status: number }[];
  /** What to do with the next GET of `digest`'s blob: cut the connection, or stall, after `bytes`. */
  cutAfter(digest: string, bytes: number): void;
  stallAfter(digest: string, bytes: number): { reached: Promise<void>; release(): void };
  /**
   * The next `n` requests find their connection closed: destroyed once the
   * request arrived, unanswered. The client sees what it sees when the
   * registry closed a kept-alive connection while idle just as a request
   * was sent on it. `dropped()`: how many were.
   */
  closeNext(n: number): void;
  dropped(): number;
  stop(): Promise<void>;
}

/**
 * A pass-through front for `upstream` (the real registry) that can break one
 * blob download part way: cut the connection after N bytes (an interrupted
 * pull), or hold it after N bytes until released (a pull in progress).
 */
export async function startBlobProxy(upstream: string): Promise<BlobProxy> {
  const port = await freePort();
  const requests: BlobProxy['requests'] = [];
  let plan: { digest: string; bytes: number; mode: 'cut' | 'stall'; reached?: () => void; hold?: Promise<void> } | undefined;
  let toDrop = 0;
  let dropped = 0;
  const server: Server = createServer((req, res) => {
    if (toDrop > 0) {
      toDrop--;
      dropped++;
      req.socket.destroy();
      return;
    }
    const [h, p] = upstream.split(':');
    const up = request({ host: h, port: Number(p), path: req.url, method: req.method, headers: { ...req.headers, host: upstream } }, (ur) => {
      requests.push({ url: req.url ?? '', range: req.headers.range, status: ur.statusCode ?? 0 });
      // Hop-by-hop headers are the proxy's own (the registry's "Connection: close" to this proxy is not the client's).
      const { connection: _c, 'keep-alive': _k, ...headers } = ur.headers;
      res.writeHead(ur.statusCode ?? 502, headers);
      const mine = plan !== undefined && req.method === 'GET' && req.url?.endsWith(`/blobs/${plan.digest}`) ? plan : undefined;
      if (!mine) {
        ur.pipe(res);
        return;
      }
      plan = undefined;
      let sent = 0;
      ur.on('data', async (chunk: Buffer) => {
        if (sent >= mine.bytes) return;
        const part = chunk.subarray(0, mine.bytes - sent);
        const rest = chunk.subarray(part.length);
        sent += part.length;
        res.write(part);
        if (sent < mine.bytes) return;
        ur.pause();
        if (mine.mode === 'cut') {
          // Let the bytes reach the client, then break the connection mid-body.
          setTimeout(() => res.destroy(), 200);
          ur.destroy();
          return;
        }
        mine.reached?.();
        await mine.hold;
        // The rest of the body as the registry sends it.
        res.write(rest);
        ur.removeAllListeners('data');
        ur.on('data', (c: Buffer) => res.write(c));
        ur.on('end', () => res.end());
        ur.resume();
      });
      ur.on('end', () => {
        if (sent < mine.bytes) res.end();
      });
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    host: `127.0.0.1:${port}`,
    requests,
    cutAfter: (digest, bytes) => {
      plan = { digest, bytes, mode: 'cut' };
    },
    stallAfter: (digest, bytes) => {
      let release!: () => void;
      let reached!: () => void;
      const hold = new Promise<void>((r) => (release = r));
      const reachedP = new Promise<void>((r) => (reached = r));
      plan = { digest, bytes, mode: 'stall', reached, hold };
      return { reached: reachedP, release };
    },
    closeNext: (n) => {
      toDrop = n;
    },
    dropped: () => dropped,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
