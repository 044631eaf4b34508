// Zones from the image store, for real: `lxzone run --image` pulls a missing
// image from a real registry on loopback, mounts its shared layers (id-mapped
// onto the zone's ids, read-only) under a writable upper layer, and applies
// the image's Cmd, Env, WorkingDir and User. What a zone writes never reaches
// the shared layers, and nothing is left mounted. A hostile layer pushed to
// the registry is refused at pull with nothing left in the store.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeTar } from './support/handmade-tar.js';
import { runNodeAsNobody } from './support/nobody.js';
import { busyboxRoot, describeWithRegistry, ociLayout, push, startRegistry, TEST_IMAGE_CONFIG, upperLayer, type Registry } from './support/registry.js';

const repo = fileURLToPath(new URL('..', import.meta.url));

let work: string;
let reg: Registry;
let env: NodeJS.ProcessEnv;

function lxzone(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join(repo, 'test/support/cli-entry.ts'), ...args], { cwd: repo, env, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const layerDirs = () => (existsSync(join(work, 'state/images/layers')) ? readdirSync(join(work, 'state/images/layers')) : []).filter((d) => !d.startsWith('.')).map((d) => join(work, 'state/images/layers', d));
const ourMounts = () => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(work));

describeWithRegistry('zones from the image store', () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'lxzone-33r-'));
    busyboxRoot(join(work, 'l1'));
    upperLayer(join(work, 'l2'));
    ociLayout(join(work, 'oci'), [join(work, 'l1'), join(work, 'l2')], 'v1', true);
    reg = await startRegistry(work);
    push(join(work, 'oci'), 'v1', `${reg.host}/busybox:v1`);
    env = { ...process.env, LXZONE_STATE_DIR: join(work, 'state'), LXZONE_RUNTIME_DIR: join(work, 'run') };
  }, 120_000);

  afterAll(async () => {
    await reg?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("pulls a missing image and runs its Cmd with its Env, WorkingDir and User", async () => {
    const r = await lxzone('run', '--image', `${reg.host}/busybox:v1`);
    expect(r.stderr).toMatch(/downloaded/);
    expect(r.stdout).toBe('hello from the image\n/home/app\n1000\n');
    expect(r.code).toBe(0);
  }, 120_000);

  it('shows the merged layers (whiteout, opaque directory), writes to its own upper layer only, leaves nothing mounted', async () => {
    const before = layerDirs().map((d) => readdirSync(join(d, 'etc')).sort());
    const script = [
      'ls /opt/old', // opaque in the upper layer: only its own file
      'cat /etc/gone 2>/dev/null || echo gone', // whited out
      'cat /etc/motd',
      'echo written > /etc/new && cat /etc/new',
      'rm /etc/motd && ls /etc',
      'stat -c "%u %a" /bin/busybox',
      'id -u',
    ].join('; ');
    const r = await lxzone('run', '-u', '0', '-w', '/', '--image', `${reg.host}/busybox:v1`, '--', '/bin/sh', '-c', script);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('new\ngone\nupper layer\nwritten\ngroup\nnew\npasswd\n0 755\n0\n');
    expect(r.code).toBe(0);
    // The shared layers are as they were, and a second zone sees the image pristine.
    expect(layerDirs().map((d) => readdirSync(join(d, 'etc')).sort())).toEqual(before);
    const again = await lxzone('run', '-u', '0', '--image', `${reg.host}/busybox:v1`, '--', '/bin/sh', '-c', 'cat /etc/motd; ls /etc/new 2>&1 || true');
    expect(again.stdout).toMatch(/^upper layer\n.*No such file/);
    expect(ourMounts()).toEqual([]);
  }, 120_000);

  it("applies the image's Volumes: a mount of the run's own at each path, seeded from the image, gone when the run ends; a -v at the path wins", async () => {
    mkdirSync(join(work, 'l3/data'), { recursive: true });
    writeFileSync(join(work, 'l3/data/seed'), 'seeded\n');
    ociLayout(join(work, 'oci-vol'), [join(work, 'l1'), join(work, 'l3')], 'vol', false, { ...TEST_IMAGE_CONFIG, Volumes: { '/data': {}, '/var/vol': {} } });
    const ref = `${reg.host}/busybox:vol`;
    push(join(work, 'oci-vol'), 'vol', ref);
    expect((await lxzone('pull', '--quiet', ref)).code).toBe(0);
    // A run killed before its clean-up left a volume directory: the next run removes it.
    const runVols = join(work, 'run/run-volumes');
    mkdirSync(join(runVols, '999999999-dead/x'), { recursive: true });
    writeFileSync(join(runVols, '999999999-dead.owner'), JSON.stringify({ pid: 999_999_999, startTime: 1 }));
    const script = 'cat /data/seed; stat -c "%u %a" /data /data/seed; echo w > /data/w; cat /data/w; ls -a /var/vol | busybox wc -l; busybox grep -c -e " /data " -e " /var/vol " /proc/mounts';
    const r = await lxzone('run', '-u', '0', '--image', ref, '--', '/bin/sh', '-c', script);
    expect(r.stderr).toBe('');
    // Seeded, owned by the zone's root (id-mapped), writable; /var/vol made empty; each a mount of its own.
    expect(r.stdout).toBe('seeded\n0 755\n0 644\nw\n2\n2\n');
    expect(r.code).toBe(0);
    expect(readdirSync(runVols)).toEqual([]);
    for (const l of layerDirs()) expect(existsSync(join(l, 'data/w'))).toBe(false);
    // The next run starts from the image again; a host directory bound at /data replaces that volume.
    const host = join(work, 'host-data');
    mkdirSync(host);
    writeFileSync(join(host, 'mine'), 'host\n');
    const again = await lxzone('run', '-u', '0', '-v', `${host}:/data`, '--image', ref, '--', '/bin/sh', '-c', 'ls /data; cat /data/w 2>/dev/null || echo fresh; ls -a /var/vol | busybox wc -l');
    expect(again.stderr).toBe('');
    expect(again.stdout).toBe('mine\nfresh\n2\n');
    expect(readdirSync(runVols)).toEqual([]);
    expect(ourMounts()).toEqual([]);
    await lxzone('rmi', ref);
  }, 120_000);

  it('gives the command after the Entrypoint, and refuses --image with --rootfs', async () => {
    const r = await lxzone('run', '--image', `${reg.host}/busybox:v1`, '--', '/bin/echo', 'given');
    expect(r.stdout).toBe('given\n');
    const bad = await lxzone('run', '--image', `${reg.host}/busybox:v1`, '--rootfs', '/', '--', '/bin/true');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('lxzone: --image excludes --rootfs\n');
  }, 120_000);

  it('a one-shot run holds its image while it runs: rmi refuses, prune keeps it; once it ends, it holds nothing', async () => {
    const ref = `${reg.host}/busybox:v1`;
    const child = spawn(process.execPath, ['--import', 'tsx', join(repo, 'test/support/cli-entry.ts'), 'run', '--image', ref, '--', '/bin/sh', '-c', 'echo up; exec /bin/busybox sleep 600'], { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      let out = '';
      child.stdout.on('data', (d) => (out += String(d)));
      for (let i = 0; i < 600 && !out.includes('up') && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
      expect(out).toBe('up\n');
      const users = (JSON.parse((await lxzone('images', '--json')).stdout) as { refs: string[]; users: string[] }[]).find((i) => i.refs.includes(ref))?.users;
      expect(users).toEqual([`run:${child.pid}`]);
      const rmi = await lxzone('rmi', ref);
      expect(rmi.code).toBe(1);
      expect(rmi.stderr).toBe(`lxzone: image ${ref} is in use by running lxzone run (pid ${child.pid}) (wait for the run to end first)\n`);
      await lxzone('image', 'prune');
      expect((await lxzone('images')).stdout).toContain(ref);
    } finally {
      child.kill('SIGTERM'); // relayed to the zone
      await exited;
    }
    const after = (JSON.parse((await lxzone('images', '--json')).stdout) as { refs: string[]; users: string[] }[]).find((i) => i.refs.includes(ref))?.users;
    expect(after).toEqual([]);
  }, 300_000); // six CLI calls and a zone: under load each call takes up to ~30 s

  it('as an unprivileged user (nobody): pull fetches blobs only, the first run --image unpacks the layers into its own store (test/33.image-store.rootless for the rest)', async () => {
    const home = mkdtempSync(join(tmpdir(), 'lxzone-33-nobody-'));
    chownSync(home, 65534, 65534); // nobody's own home (lxzone refuses a state directory others can write)
    try {
      const env = { PATH: process.env.PATH, HOME: home };
      const cli = (...args: string[]) => runNodeAsNobody((root) => [join(root, 'test/support/cli-entry.ts'), ...args], { cwd: '/tmp', env });
      const ref = `${reg.host}/busybox:v1`;
      const pull = await cli('pull', '--quiet', ref);
      expect(pull.stderr).toBe('');
      expect(pull.code).toBe(0);
      const layers = join(home, '.local/share/lxzone/images/layers');
      expect(readdirSync(layers)).toEqual([]); // blobs only: unpacked where a zone needs them
      const run = await cli('run', '-u', '0', '--image', ref, '--', '/bin/sh', '-c', 'cat /etc/motd; id -u');
      expect(run.stderr).toBe('');
      expect(run.stdout).toBe('upper layer\n0\n');
      expect(run.code).toBe(0);
      expect(readdirSync(layers).filter((d) => !d.startsWith('.'))).toHaveLength(2);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }, 120_000);

  it('refuses a hostile layer from the registry at pull, leaving nothing in the store', async () => {
    const hostile = join(work, 'hostile');
    mkdirSync(join(hostile, 'blobs/sha256'), { recursive: true });
    const put = (b: Buffer) => {
      const h = createHash('sha256').update(b).digest('hex');
      writeFileSync(join(hostile, 'blobs/sha256', h), b);
      return { digest: `sha256:${h}`, size: b.length };
    };
    const plain = makeTar([
      { path: 'etc', type: 'SymbolicLink', linkpath: '/' },
      { path: 'etc/passwd', body: 'root::0:0::/:/bin/sh\n' },
    ]);
    const layer = put(gzipSync(plain));
    const config = put(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${createHash('sha256').update(plain).digest('hex')}`] }, config: {} })));
    const manifest = put(Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
    })));
    writeFileSync(join(hostile, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    writeFileSync(join(hostile, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'evil' } }] }));
    push(hostile, 'evil', `${reg.host}/hostile:evil`);
    const before = layerDirs().length;
    const r = await lxzone('run', '--image', `${reg.host}/hostile:evil`, '--', '/bin/true');
    expect(r.code).toBe(125); // run: lxzone's own failure (README, Exit status)
    expect(r.stderr).toContain(`lxzone: ${reg.host}/hostile: layer 0 (${layer.digest}): entry "etc/passwd": goes through the symbolic link etc`);
    expect(layerDirs().length).toBe(before);
    expect(readdirSync(join(work, 'state/images/layers')).filter((d) => d.startsWith('.'))).toEqual([]);
    expect((await lxzone('images')).stdout).not.toContain('hostile');
  }, 120_000);
}, { shim: true });
