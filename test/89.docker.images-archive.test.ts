// Image verbs of the real docker client through lxzone's image store, no
// registry needed: docker import of a rootfs tar (and a container run of
// it), docker tag, docker history, docker save (a docker-archive tar) and
// docker load of it back, docker load of what `lxzone image save` writes,
// docker image prune (dangling, and -a keeping what a container uses), and
// Docker's errors for bad archives with nothing left in the store.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dockerUnavailable, useDocker } from './support/docker.js';
import { busyboxRoot, ociLayout, upperLayer } from './support/registry.js';
import { describeUnless } from './support/skip.js';

const why = dockerUnavailable('image layers are unpacked with overlayfs whiteouts; containers are zones');
const { env, ok, run } = useDocker(98, { skip: why });

let work: string;
const leftovers = () => readdirSync(join(env.stateDir, 'images')).filter((f) => f.startsWith('.'));
const tar = (dir: string, out: string) => execFileSync('tar', ['--numeric-owner', '-C', dir, '-cf', out, '.']);

describeUnless(why, 'docker import, tag, history, save, load, image prune', () => {
  beforeAll(() => {
    work = mkdtempSync('/tmp/lxzone-89a-');
    busyboxRoot(join(work, 'l1'));
    upperLayer(join(work, 'l2'));
    tar(join(work, 'l1'), join(work, 'rootfs.tar'));
    ociLayout(join(work, 'oci'), [join(work, 'l1'), join(work, 'l2')], 'v1');
    tar(join(work, 'oci'), join(work, 'layered.tar'));
  });
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('import, tag, history, save and load round trip; lxzone image save loads; prune', async () => {
    await env.ok(['list']); // the daemon, which serves docker.sock
    // docker import: a one-layer image, runnable.
    const id = await ok(['import', join(work, 'rootfs.tar'), 'imp:v1']);
    expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect((await ok(['run', '--rm', '--network', 'none', 'imp:v1', '/bin/cat', '/etc/gone'])).trim()).toBe('whited out above');

    // docker tag: another name of the same image.
    await ok(['tag', 'imp:v1', 'other/name:t2']);
    expect(await ok(['image', 'inspect', '--format', '{{.Id}}', 'other/name:t2'])).toBe(id);
    expect((await ok(['images', '--format', '{{.Repository}}:{{.Tag}}'])).split('\n').sort()).toEqual(['host:latest', 'imp:v1', 'lxzone/host:latest', 'other/name:t2']);
    const badTag = await run(['tag', 'nosuch:v1', 'x:y']);
    expect(badTag.stderr).toMatch(/No such image: nosuch:v1/);

    // docker history: one row per layer, the newest carrying the image's id.
    const hist = (await ok(['history', '--no-trunc', '--format', '{{.ID}}', 'imp:v1'])).split('\n');
    expect(hist).toEqual([id]);

    // docker save of both names, removed, loaded back: the same image under both names.
    const saved = join(work, 'saved.tar');
    await ok(['save', '-o', saved, 'imp:v1', 'other/name:t2']);
    const manifest = JSON.parse(execFileSync('tar', ['-xOf', saved, 'manifest.json'], { encoding: 'utf8' })) as { Config: string; RepoTags: string[]; Layers: string[] }[];
    expect(manifest).toHaveLength(1);
    expect(manifest[0]?.RepoTags.sort()).toEqual(['imp:v1', 'other/name:t2']);
    expect(manifest[0]?.Config).toBe(`${id.slice(7)}.json`);
    await ok(['rmi', 'imp:v1', 'other/name:t2']);
    expect((await run(['image', 'inspect', 'imp:v1'])).code).not.toBe(0);
    const loaded = await ok(['load', '-i', saved]);
    expect(loaded.split('\n').sort()).toEqual(['Loaded image: imp:v1', 'Loaded image: other/name:t2']);
    expect(await ok(['image', 'inspect', '--format', '{{.Id}}', 'imp:v1'])).toBe(id);

    // What lxzone image save writes (an OCI layout tar of two layers) loads too.
    await env.ok(['image', 'import', join(work, 'layered.tar'), 'lay:v1']);
    const layId = await ok(['image', 'inspect', '--format', '{{.Id}}', 'lay:v1']);
    await env.ok(['image', 'save', 'lay:v1', '-o', join(work, 'lx.tar')]);
    await ok(['rmi', 'lay:v1']);
    expect(await ok(['load', '-i', join(work, 'lx.tar')])).toBe('Loaded image: lay:v1');
    expect(await ok(['image', 'inspect', '--format', '{{.Id}} {{len .RootFS.Layers}}', 'lay:v1'])).toBe(`${layId} 2`);
    expect((await ok(['history', '-q', 'lay:v1'])).split('\n')).toHaveLength(2);

    // Bad archives: Docker's error, nothing left in the store.
    writeFileSync(join(work, 'junk.tar'), 'not a tar at all\n'.repeat(100));
    const junk = await run(['load', '-i', join(work, 'junk.tar')]);
    expect(junk.code).not.toBe(0);
    expect(junk.stderr).toMatch(/Error response from daemon: docker load: /);
    expect(junk.stderr).not.toMatch(/\.docker-load-/);
    const emptyImport = await run(['import', '-', 'empty:v1'], { input: '' });
    expect(emptyImport.stderr).toMatch(/no import archive in the request body/);
    const change = await run(['import', '--change', 'CMD ["/bin/sh"]', join(work, 'rootfs.tar'), 'chg:v1']);
    expect(change.stderr).toMatch(/--change is not supported/);
    expect(leftovers()).toEqual([]);

    // docker image prune: a dangling image goes; -a removes every unused one, not one a container uses.
    tar(join(work, 'l2'), join(work, 'other.tar'));
    const dangling = await ok(['import', join(work, 'other.tar')]);
    await ok(['tag', 'imp:v1', 'third:v3']);
    await ok(['create', '--name', 'holder', '--network', 'none', 'lay:v1', '/bin/true']);
    const pruned = await ok(['image', 'prune', '-f']);
    expect(pruned).toContain(`deleted: ${dangling}`);
    expect(pruned).not.toContain(id);
    const all = await ok(['image', 'prune', '-a', '-f']);
    expect(all).toContain('untagged: imp:v1');
    expect(all).toContain(`deleted: ${id}`);
    expect(all).not.toContain(layId);
    expect((await ok(['images', '--format', '{{.Repository}}:{{.Tag}}'])).split('\n').sort()).toEqual(['host:latest', 'lay:v1', 'lxzone/host:latest']);
    await ok(['rm', 'holder']);
  });
});
