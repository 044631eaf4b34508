// Named zones from the image store: `create --image REF` pulls the image
// from a real registry on loopback, two zones share its layers (one copy,
// read-only, each zone's writes on its own disk and kept across boots), the
// image's Cmd and User apply, rmi is refused while a zone uses the image and
// allowed once the zones are destroyed.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useLifecycleEnv, waitFor } from './support/lifecycle-env.js';
import { busyboxRoot, haveRegistryTools, ociLayout, push, startRegistry, upperLayer, type Registry } from './support/registry.js';

const env = useLifecycleEnv(88);
const run = haveRegistryTools() && process.getuid?.() === 0 ? describe : describe.skip;

let work: string;
let reg: Registry;

run('create --image REF', () => {
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
    const script = 'echo $(cat /etc/count 2>/dev/null)x > /etc/count; id -un; cat /etc/count; sleep 600';
    await env.ok(['create', 'st1', '--image', ref, '--network', 'none', '-u', '0', '--', '/bin/sh', '-c', script]);
    await env.ok(['create', 'st2', '--image', ref, '--network', 'none']);
    const layers = readdirSync(join(env.stateDir, 'images/layers')).filter((d) => !d.startsWith('.'));
    expect(layers).toHaveLength(2);
    const cfg = JSON.parse(readFileSync(join(env.stateDir, 'zones/st1/config.json'), 'utf8')) as { rootfs: { type: string; digest: string } };
    expect(cfg.rootfs.type).toBe('store');

    await env.ok(['boot', 'st1']);
    const log = join(env.stateDir, 'zones/st1/logs/stdout.log');
    await waitFor(() => existsSync(log) && readFileSync(log, 'utf8').split('\n').length > 2);
    expect(readFileSync(log, 'utf8')).toBe('root\nx\n');
    await env.ok(['reboot', 'st1']);
    await waitFor(() => readFileSync(log, 'utf8').includes('xx'));
    expect(readFileSync(log, 'utf8')).toBe('root\nx\nroot\nxx\n');
    // The write is the zone's: not in the shared layers, not in the other zone.
    for (const l of layers) expect(existsSync(join(env.stateDir, 'images/layers', l, 'etc/count'))).toBe(false);
    // st2 runs the image's own Cmd as its User (app, in /home/app).
    await env.ok(['boot', 'st2']);
    const log2 = join(env.stateDir, 'zones/st2/logs/stdout.log');
    await waitFor(() => existsSync(log2) && readFileSync(log2, 'utf8').split('\n').length > 3);
    expect(readFileSync(log2, 'utf8')).toBe('hello from the image\n/home/app\n1000\n');

    const busy = await env.cli(['rmi', ref]);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toBe(`lxzone: image ${ref} is in use by zones st1, st2 (destroy them first)\n`);
    const images = JSON.parse(await env.ok(['images', '--json'])) as { users: string[] }[];
    expect(images[0]?.users).toEqual(['st1', 'st2']);

    await env.ok(['destroy', '--force', 'st1']);
    await env.ok(['destroy', '--force', 'st2']);
    expect(await env.ok(['rmi', ref])).toMatch(/^untagged .*\ndeleted sha256:/);
    expect(readdirSync(join(env.stateDir, 'images/layers'))).toEqual([]);
  });
});
