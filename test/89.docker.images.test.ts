// Images through the real docker client, in lxzone's image store: docker pull
// from a real registry on loopback (Debian's docker-registry, the image
// pushed by skopeo) with Docker's progress messages, docker images, image
// inspect, docker run of the image with its Env/Cmd/WorkingDir/User, a
// missing image pulled by docker run itself, rmi refused while a container
// uses the image and then removing it, and Docker's errors.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dockerClient } from './support/docker.js';
import { useLifecycleEnv } from './support/lifecycle-env.js';
import { busyboxRoot, describeWithRegistry, ociLayout, registrySkipReason, push, startRegistry, upperLayer, type Registry } from './support/registry.js';

const env = useLifecycleEnv(91);
const docker = dockerClient(env);
const { ok, run } = docker;
// A skipped file runs no hooks: what the environment made at import (its directory) goes now.
if (registrySkipReason() !== undefined) rmSync(env.base, { recursive: true, force: true });

let work: string;
let reg: Registry;
let manifest: string;
const records = () => {
  const d = join(env.stateDir, 'images/images');
  return existsSync(d) ? readdirSync(d) : [];
};

describeWithRegistry('docker pull, images, image inspect, run IMAGE, rmi', () => {
  beforeAll(async () => {
    work = mkdtempSync('/tmp/lxzone-89i-');
    busyboxRoot(join(work, 'l1'));
    upperLayer(join(work, 'l2'));
    manifest = ociLayout(join(work, 'oci'), [join(work, 'l1'), join(work, 'l2')], 'v1', true).manifest;
    reg = await startRegistry(work);
    push(join(work, 'oci'), 'v1', `${reg.host}/busybox:v1`);
    push(join(work, 'oci'), 'v1', `${reg.host}/second:v1`);
  }, 180_000);

  afterAll(async () => {
    await reg?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('pulls with progress, lists and inspects the image, runs it with its own settings, and rmi removes it once unused', async () => {
    await env.ok(['list']); // the daemon, which serves docker.sock
    const image = `${reg.host}/busybox:v1`;
    const p = await run(['pull', image]);
    expect(p.stderr).toBe('');
    expect(p.code).toBe(0);
    expect(p.stdout).toContain('v1: Pulling from busybox');
    expect(p.stdout).toContain('Pull complete');
    expect(p.stdout).toContain(`Digest: ${manifest}`);
    expect(p.stdout).toContain(`Status: Downloaded newer image for ${image}`);
    expect(p.stdout.trim().split('\n').at(-1)).toBe(image);
    const again = await run(['pull', image]);
    expect(again.stdout).toContain(`Status: Image is up to date for ${image}`);

    // docker images and image inspect: the store's record, as dockerd shows one.
    const info = JSON.parse(await ok(['image', 'inspect', image]))[0] as {
      Id: string;
      RepoTags: string[];
      RepoDigests: string[];
      Architecture: string;
      Config: { Env: string[]; Cmd: string[]; WorkingDir: string; User: string };
      RootFS: { Layers: string[] };
    };
    expect(info.Id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(info.RepoTags).toEqual([image]);
    expect(info.RepoDigests).toEqual([`${reg.host}/busybox@${manifest}`]);
    expect(info.Architecture).toBe('amd64');
    expect(info.Config.Env).toEqual(['PATH=/bin', 'GREETING=hello from the image']);
    expect([info.Config.Cmd, info.Config.WorkingDir, info.Config.User]).toEqual([['/bin/sh', '-c', 'echo $GREETING; pwd; id -u'], '/home/app', 'app']);
    expect(info.RootFS.Layers).toHaveLength(2);
    const listed = (await ok(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'])).split('\n').sort();
    expect(listed).toEqual([`${image} ${info.Id.slice(7, 19)}`, 'host:latest ' + listed.find((l) => l.startsWith('host:'))!.split(' ')[1], 'lxzone/host:latest ' + listed.find((l) => l.startsWith('lxzone/host:'))!.split(' ')[1]].sort());
    // By id as well as by name.
    expect(JSON.parse(await ok(['image', 'inspect', info.Id.slice(7, 19)]))[0].Id).toBe(info.Id);

    // docker run IMAGE: its Cmd, Env, WorkingDir and User; the root is the image's layers.
    const r = await run(['run', '--rm', image]);
    expect([r.code, r.stdout, r.stderr]).toEqual([0, 'hello from the image\n/home/app\n1000\n', '']);
    // --entrypoint drops the image's Cmd; -e adds to its Env; -w and -u override; a whited-out file is gone.
    const e = await run(['run', '--rm', '-e', 'EXTRA=1', '-w', '/etc', '-u', '0', '--entrypoint', '/bin/sh', image, '-c', 'cat motd; echo "$GREETING $EXTRA $PATH"; pwd; id -u; cat gone 2>/dev/null || echo gone']);
    expect([e.code, e.stdout]).toEqual([0, 'upper layer\nhello from the image 1 /bin\n/etc\n0\ngone\n']);

    // A container using the image: rmi is refused (409) and leaves the image; once it is gone, rmi removes everything.
    await ok(['run', '-d', '--name', 'user1', image, '/bin/busybox', 'sleep', '600']);
    // docker exec runs as the image's User, names looked up in the image's /etc/passwd (not the host's).
    expect(await ok(['exec', 'user1', 'id', '-u'])).toBe('1000');
    expect(await ok(['exec', '-u', 'root', 'user1', 'id', '-u'])).toBe('0');
    const c = JSON.parse(await ok(['inspect', 'user1']))[0] as { Image: string; Config: { Image: string } };
    expect([c.Image, c.Config.Image]).toEqual([info.Id, image]);
    expect(await ok(['ps', '--filter', `ancestor=${image}`, '--format', '{{.Names}}'])).toBe('user1');
    const busy = await run(['rmi', image]);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/in use by zone user1/);
    expect(records()).toHaveLength(1);
    await ok(['rm', '-f', 'user1']);
    const rmi = await run(['rmi', image]);
    expect(rmi.code).toBe(0);
    expect(rmi.stdout).toContain(`Untagged: ${image}`);
    expect(rmi.stdout).toContain(`Deleted: ${info.Id}`);
    expect(records()).toEqual([]);
    expect(await ok(['images', '-q', image])).toBe('');
  });

  it('docker run pulls a missing image itself', async () => {
    await env.ok(['list']);
    const image = `${reg.host}/second:v1`;
    const r = await run(['run', '--rm', image]);
    expect(r.stderr).toContain(`Unable to find image '${image}' locally`);
    expect(r.stderr).toContain(`Status: Downloaded newer image for ${image}`);
    expect(r.stdout).toBe('hello from the image\n/home/app\n1000\n');
    expect(r.code).toBe(0);
    await ok(['rmi', image]);
    expect(records()).toEqual([]);
  });

  it("refuses what it cannot do with Docker's errors", async () => {
    await env.ok(['list']);
    const missing = await run(['pull', `${reg.host}/nothere:v1`]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`Error response from daemon: ${reg.host}/nothere: manifest v1: not found (HTTP 404)\n`);
    const norun = await run(['run', '--rm', `${reg.host}/nothere:v1`]);
    expect(norun.code).toBe(125);
    expect(norun.stderr).toContain('not found (HTTP 404)');
    const rmi = await run(['rmi', 'nosuchimage']);
    expect([rmi.code, rmi.stderr]).toEqual([1, 'Error: No such image: nosuchimage\n']);
    const host = await run(['rmi', 'host']);
    expect(host.code).toBe(1);
    expect(host.stderr).toMatch(/cannot be removed/);
    const raw = await docker.raw('POST', '/v1.41/images/create?fromImage=Bad%20Name&tag=x');
    expect(raw.status).toBe(400);
    expect(JSON.parse(raw.body).message).toMatch(/^invalid reference format/);
    const build = await docker.raw('POST', '/v1.41/build');
    expect([build.status, JSON.parse(build.body).message]).toEqual([501, "docker build is not supported by lxzone's Docker API yet"]);
    expect(env.store.list()).toEqual([]);
  });
});
