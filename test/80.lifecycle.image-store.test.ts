// Named zones from the image store: `create --image REF` pulls the image
// from a real registry on loopback, two zones share its layers (one copy,
// read-only, each zone's writes on its own disk and kept across boots), the
// image's Cmd and User apply, rmi is refused while a zone uses the image and
// allowed once the zones are destroyed (a store zone's disk growing with
// update --disk: test/80.lifecycle.image-store-disk). The image's Volumes are directories of the zone's own on its disk, seeded
// from the image; its ExposedPorts are shown by inspect.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { useLifecycleEnv, waitFor } from './support/lifecycle-env.js';
import { busyboxRoot, describeWithRegistry, ociLayout, push, registrySkipReason, startRegistry, TEST_IMAGE_CONFIG, upperLayer, type Registry } from './support/registry.js';

const env = useLifecycleEnv(95);
// A skipped file runs no hooks: what the environment made at import (its directory) goes now.
if (registrySkipReason() !== undefined) rmSync(env.base, { recursive: true, force: true });

let work: string;
let reg: Registry;

/**
 * `lxzone ARGS`, which must succeed, given time: under load a create with
 * its pull outlasts runCli's 30 s default, and so does a stop, which waits
 * (bounded) until no mount namespace holds the zone's disk any more (other
 * tests' namespaces copy its mount: docs/parts/network-cgroups.md).
 */
async function slowOk(args: string[]): Promise<string> {
  const r = await env.cli(args, { timeoutMs: 150_000 });
  expect(r.code, `lxzone ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r.stdout;
}

describeWithRegistry('create --image REF', () => {
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'lxzone-80s-'));
    busyboxRoot(join(work, 'l1'));
    upperLayer(join(work, 'l2'));
    ociLayout(join(work, 'oci'), [join(work, 'l1'), join(work, 'l2')], 'v1');
    reg = await startRegistry(work);
    push(join(work, 'oci'), 'v1', `${reg.host}/busybox:v1`);
  }, 120_000);
  afterAll(async () => {
    await reg?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('two zones share the layers, keep their own writes across boots, and hold the image until destroyed', async () => {
    const ref = `${reg.host}/busybox:v1`;
    // The image's busybox has no sleep applet link: `busybox sleep` (a bare sleep exits 127 and ends the zone).
    const script = 'echo $(cat /etc/count 2>/dev/null)x > /etc/count; id -un; cat /etc/count; busybox sleep 600';
    await slowOk(['create', 'st1', '--image', ref, '--network', 'none', '-u', '0', '--', '/bin/sh', '-c', script]);
    await slowOk(['create', 'st2', '--image', ref, '--network', 'none']);
    const layers = readdirSync(join(env.stateDir, 'images/layers')).filter((d) => !d.startsWith('.'));
    expect(layers).toHaveLength(2);
    const cfg = JSON.parse(readFileSync(join(env.stateDir, 'zones/st1/config.json'), 'utf8')) as { rootfs: { type: string; digest: string } };
    expect(cfg.rootfs.type).toBe('store');

    await slowOk(['boot', 'st1']);
    const log = join(env.stateDir, 'zones/st1/logs/stdout.log');
    await waitFor(() => existsSync(log) && readFileSync(log, 'utf8').split('\n').length > 2);
    expect(readFileSync(log, 'utf8')).toBe('root\nx\n');
    await slowOk(['reboot', 'st1']);
    await waitFor(() => readFileSync(log, 'utf8').includes('xx'));
    expect(readFileSync(log, 'utf8')).toBe('root\nx\nroot\nxx\n');
    // The write is the zone's: not in the shared layers, not in the other zone.
    for (const l of layers) expect(existsSync(join(env.stateDir, 'images/layers', l, 'etc/count'))).toBe(false);
    // st2 runs the image's own Cmd as its User (app, in /home/app).
    await slowOk(['boot', 'st2']);
    const log2 = join(env.stateDir, 'zones/st2/logs/stdout.log');
    await waitFor(() => existsSync(log2) && readFileSync(log2, 'utf8').split('\n').length > 3);
    expect(readFileSync(log2, 'utf8')).toBe('hello from the image\n/home/app\n1000\n');

    const busy = await env.cli(['rmi', ref], { timeoutMs: 150_000 });
    expect(busy.code).toBe(1);
    expect(busy.stderr).toBe(`lxzone: image ${ref} is in use by zones st1, st2 (destroy them first)\n`);
    const images = JSON.parse(await slowOk(['images', '--json'])) as { users: string[] }[];
    expect(images[0]?.users).toEqual(['st1', 'st2']);

    await slowOk(['destroy', '--force', 'st1']);
    await slowOk(['destroy', '--force', 'st2']);
    expect(await slowOk(['rmi', ref])).toMatch(/^untagged .*\ndeleted sha256:/);
    expect(readdirSync(join(env.stateDir, 'images/layers'))).toEqual([]);
  }, 400_000);

  it("an image's Volumes are the zone's own directories on its disk, seeded from the image and kept across reboot; inspect shows them and its ExposedPorts", async () => {
    mkdirSync(join(work, 'l3/data'), { recursive: true });
    writeFileSync(join(work, 'l3/data/seed'), 'seeded\n');
    const config = { ...TEST_IMAGE_CONFIG, Volumes: { '/data': {}, '/var/vol': {} }, ExposedPorts: { '8080/tcp': {}, '53/udp': {} } };
    ociLayout(join(work, 'oci-vol'), [join(work, 'l1'), join(work, 'l3')], 'vol', false, config);
    const ref = `${reg.host}/busybox:vol`;
    push(join(work, 'oci-vol'), 'vol', ref);
    const script = 'cat /data/seed; stat -c "%u %a" /data; echo run >> /data/log; cat /data/log; ls -a /var/vol | busybox wc -l; touch /var/vol/x; busybox grep -c " /data " /proc/mounts; busybox sleep 600';
    await slowOk(['create', 'vz', '--image', ref, '--network', 'none', '-u', '0', '--', '/bin/sh', '-c', script]);
    await slowOk(['boot', 'vz']);
    const log = join(env.stateDir, 'zones/vz/logs/stdout.log');
    const lines = () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []);
    await waitFor(() => lines().length >= 5);
    expect(lines()).toEqual(['seeded', '0 755', 'run', '2', '1']); // /var/vol: made empty (. and ..); /data: a mount of its own
    // The zone still runs (its disk is mounted on the host while it does): its
    // script once ended with a `sleep` the image does not have, and the daemon
    // unmounted the disk at the zone's end, racing the checks below (CI flake).
    expect((await env.inspect('vz')).state, `zone vz runs; its stderr: ${readFileSync(join(env.stateDir, 'zones/vz/logs/stderr.log'), 'utf8')}`).toBe('running');
    // On the zone's disk, outside its overlay: not in the upper layer, not in the shared layers.
    const disk = join(env.stateDir, 'zones/vz/disk');
    const mountinfo = readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
    const daemonLog = () => (existsSync(join(env.stateDir, 'daemon.log')) ? readFileSync(join(env.stateDir, 'daemon.log'), 'utf8') : '(no daemon.log)');
    expect(mountinfo.some((l) => l.split(' ')[4] === disk), `zone disk mounted on the host at ${disk}; daemon.log:\n${daemonLog()}`).toBe(true);
    expect(readdirSync(disk), 'the zone disk holds its volumes').toContain('volumes');
    expect(readFileSync(join(disk, 'volumes', encodeURIComponent('/data'), 'log'), 'utf8')).toBe('run\n');
    expect(existsSync(join(disk, 'volumes', encodeURIComponent('/var/vol'), 'x'))).toBe(true);
    expect(existsSync(join(disk, 'cow/upper/data/log'))).toBe(false);
    const details = await env.inspect('vz');
    expect(details.storeImage?.exposedPorts).toEqual([{ port: '53/udp', address: null }, { port: '8080/tcp', address: null }]);
    expect(details.storeImage?.volumes.map((v) => v.path)).toEqual(['/data', '/var/vol']);
    const img = JSON.parse(await slowOk(['image', 'inspect', ref])) as { image: { exposedPorts: string[]; volumes: string[] } };
    expect(img.image.exposedPorts).toEqual(['53/udp', '8080/tcp']);
    expect(img.image.volumes).toEqual(['/data', '/var/vol']);

    await slowOk(['reboot', 'vz']);
    await waitFor(() => lines().length >= 11);
    expect(lines().slice(5, 9)).toEqual(['seeded', '0 755', 'run', 'run']); // the volume kept its write, and was not seeded again
    await slowOk(['destroy', '--force', 'vz']);
    expect(existsSync(join(env.stateDir, 'zones/vz'))).toBe(false);
  }, 400_000);
});
