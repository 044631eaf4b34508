// Docker's anonymous volumes through the real docker client against a
// private lxzone daemon: -v /PATH and the image's VOLUME each get one (a
// 64-hex name, seeded from the image), rm -v and --rm remove them, plain rm
// keeps them; a named volume `run` makes is seeded from the image;
// --volumes-from (and :ro), --mount readonly; prune of anonymous volumes
// (API >= 1.42) and of all (all=true); --tmpfs and --mount type=tmpfs;
// nothing left behind.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dockerUnavailable, useDocker } from './support/docker.js';
import { volumeHelpers } from './support/docker-volumes.js';
import { busyboxRoot, ociLayout } from './support/registry.js';
import { describeUnless } from './support/skip.js';

const why = dockerUnavailable('volumes are mounted id-mapped into zones');
const { env, docker, ok, run } = useDocker(68, { skip: why });
const { volumesDir, volumeNames, hostMounts } = volumeHelpers(env, docker);

let work: string;

describeUnless(why, 'docker anonymous volumes', () => {
  beforeAll(() => {
    work = mkdtempSync('/tmp/lxzone-89w-');
    busyboxRoot(join(work, 'l1'));
    // The image's content at its VOLUME path.
    mkdirSync(join(work, 'l1/vol'), { recursive: true });
    writeFileSync(join(work, 'l1/vol/seed'), 'from the image\n');
    ociLayout(join(work, 'oci'), [join(work, 'l1')], 'v1', false, { Env: ['PATH=/bin'], Cmd: ['/bin/sh'], Volumes: { '/vol': {} } });
    execFileSync('tar', ['--numeric-owner', '-C', join(work, 'oci'), '-cf', join(work, 'img.tar'), '.']);
  });
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("anonymous volumes (-v /PATH, the image's VOLUME) go with rm -v; a named volume is seeded from the image; --volumes-from", async () => {
    await env.ok(['list']);
    await env.ok(['image', 'import', join(work, 'img.tar'), 'volimg:v1']);
    // The image's VOLUME: an anonymous volume seeded from the image, owners kept.
    expect(await ok(['run', '--name', 'an1', '-v', '/extra', 'volimg:v1', '/bin/sh', '-c', 'cat /vol/seed; echo w > /extra/w'])).toBe('from the image');
    const anon = await volumeNames();
    expect(anon).toHaveLength(2);
    for (const n of anon) expect(n).toMatch(/^[0-9a-f]{64}$/);
    expect((await ok(['volume', 'ls', '-q', '--filter', 'label=com.docker.volume.anonymous'])).split('\n').sort()).toEqual(anon);
    const mounts = (await ok(['inspect', '--format', '{{range .Mounts}}{{.Destination}}={{.Name}} {{end}}', 'an1'])).split(' ').sort();
    expect(mounts.map((m) => m.split('=')[0])).toEqual(['/extra', '/vol']);
    // A second container without -v; rm without -v keeps its anonymous volume, rm -v takes an1's.
    await ok(['create', '--name', 'an2', 'volimg:v1', '/bin/sh', '-c', 'exit 0']);
    expect(await volumeNames()).toHaveLength(3);
    const an2Vol = (await ok(['inspect', '--format', '{{range .Mounts}}{{.Name}}{{end}}', 'an2'])).trim();
    await ok(['rm', 'an2']);
    await ok(['rm', '-v', 'an1']);
    expect(await volumeNames()).toEqual([an2Vol]);
    // --rm takes its anonymous volumes too.
    await ok(['run', '--rm', 'volimg:v1', '/bin/sh', '-c', 'exit 0']);
    expect(await volumeNames()).toEqual([an2Vol]);
    // A named volume that does not exist is made by run and seeded from the image's content there.
    expect(await ok(['run', '--rm', '-v', 'seeded:/vol', 'volimg:v1', '/bin/cat', '/vol/seed'])).toBe('from the image');
    // --volumes-from: another container's volumes at the same paths (read-only with :ro).
    await ok(['create', '--name', 'src', '-v', 'seeded:/vol', 'volimg:v1', '/bin/sh', '-c', 'exit 0']);
    expect(await ok(['run', '--rm', '--volumes-from', 'src', 'volimg:v1', '/bin/sh', '-c', 'echo more >> /vol/seed; cat /vol/seed'])).toBe('from the image\nmore');
    expect((await run(['run', '--rm', '--volumes-from', 'src:ro', 'volimg:v1', '/bin/touch', '/vol/x'])).code).not.toBe(0);
    expect((await run(['run', '--rm', '--mount', 'type=volume,src=seeded,dst=/vol,readonly', 'volimg:v1', '/bin/touch', '/vol/x'])).code).not.toBe(0);
    // Prune: nothing a container names (seeded, by src); the dangling anonymous one with API >= 1.42.
    const pruned = JSON.parse((await docker.raw('POST', '/v1.44/volumes/prune')).body) as { VolumesDeleted: string[] };
    expect(pruned.VolumesDeleted).toEqual([an2Vol]);
    await ok(['rm', 'src']);
    const all = JSON.parse((await docker.raw('POST', `/v1.44/volumes/prune?filters=${encodeURIComponent('{"all":["true"]}')}`)).body) as { VolumesDeleted: string[] };
    expect(all.VolumesDeleted).toEqual(['seeded']);
    expect(await volumeNames()).toEqual([]);
    expect(readdirSync(volumesDir())).toEqual([]);
    expect(hostMounts()).toEqual([]);
    expect(await ok(['ps', '-a', '-q'])).toBe('');
    // --tmpfs and --mount type=tmpfs: the zone's own, sized as asked (64 MiB unless), mode kept; ro refused.
    const tmp = await ok(['run', '--rm', '--tmpfs', '/mnt:size=1m,mode=700,noexec', '--mount', 'type=tmpfs,dst=/opt', 'host', '/bin/sh', '-c', 'stat -c %a /mnt; df -k /mnt /opt | tail -2 | tr -s " " | cut -d" " -f2']);
    expect(tmp.split('\n')).toEqual(['700', '1024', String(64 * 1024)]);
    expect((await run(['run', '--rm', '--tmpfs', '/mnt:ro', 'host', '/bin/true'])).stderr).toMatch(/read-only tmpfs is not supported/);
    expect(await ok(['ps', '-a', '-q'])).toBe('');
  }, 420_000); // many docker calls, each a zone or a daemon round: minutes on a loaded 2-core host
});
