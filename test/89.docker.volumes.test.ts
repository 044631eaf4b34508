// Docker volumes through the real docker client against a private lxzone
// daemon: volume create/ls/inspect/rm/prune with Docker's errors; a volume
// shared by two containers (each its own host id range) whose files are
// owned by the right ids in both; data kept across docker rm and a daemon
// restart; 409 while in use; a read-only mount; a symlink planted in a
// volume not followed by its removal; nothing left behind. Anonymous
// volumes, seeding and --volumes-from: 89.docker.volumes-anon.
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dockerUnavailable, useDocker } from './support/docker.js';
import { volumeHelpers } from './support/docker-volumes.js';
import { waitFor } from './support/lifecycle-env.js';
import { describeUnless } from './support/skip.js';

const why = dockerUnavailable('volumes are mounted id-mapped into zones');
const { env, docker, ok, run } = useDocker(67, { skip: why });
const { volumesDir, volumeNames, hostMounts } = volumeHelpers(env, docker);

let work: string;

describeUnless(why, 'docker volumes', () => {
  beforeAll(() => {
    work = mkdtempSync('/tmp/lxzone-89v-');
  });
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('create, ls with filters, inspect, rm, prune; bad names refused with Docker\'s JSON error', async () => {
    await env.ok(['list']); // the daemon, which serves docker.sock
    expect(await ok(['volume', 'create', '--label', 'team=a', 'v1'])).toBe('v1');
    expect(await ok(['volume', 'create', 'v2'])).toBe('v2');
    expect(await ok(['volume', 'create', 'v2'])).toBe('v2'); // an existing name: answered as it is
    const unnamed = await ok(['volume', 'create']);
    expect(unnamed).toMatch(/^[0-9a-f]{64}$/);
    expect(await volumeNames()).toEqual([unnamed, 'v1', 'v2'].sort());
    expect(await ok(['volume', 'ls', '-q', '--filter', 'label=team=a'])).toBe('v1');
    expect(await ok(['volume', 'ls', '-q', '--filter', 'name=v2'])).toBe('v2');
    expect((await ok(['volume', 'ls', '-q', '--filter', 'dangling=true'])).split('\n').sort()).toEqual([unnamed, 'v1', 'v2'].sort());
    expect(await ok(['volume', 'inspect', '--format', '{{.Name}} {{.Driver}} {{.Scope}} {{index .Labels "team"}} {{.Mountpoint}}', 'v1'])).toBe(
      `v1 local local a ${join(volumesDir(), 'v1', '_data')}`,
    );

    // Bad names: Docker's message, a 400 with a JSON body; nothing made.
    const bad = await run(['volume', 'create', 'b@d']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/"b@d" includes invalid characters for a local volume name/);
    const raw = await docker.raw('POST', '/v1.41/volumes/create', { Name: '../x' });
    expect(raw.status).toBe(400);
    expect(JSON.parse(raw.body).message).toMatch(/invalid characters for a local volume name/);
    const runBad = await run(['run', '--rm', '-v', 'b@d:/mnt', 'host', 'true']);
    expect(runBad.code).toBe(125);
    expect(runBad.stderr).toMatch(/invalid characters for a local volume name/);
    expect((await docker.raw('GET', '/v1.41/volumes/nosuch')).status).toBe(404);
    expect(readdirSync(volumesDir()).sort()).toEqual([unnamed, 'v1', 'v2'].sort());

    // rm: gone with its directory; a missing one is an error unless -f.
    await ok(['volume', 'rm', 'v2']);
    expect(existsSync(join(volumesDir(), 'v2'))).toBe(false);
    expect((await run(['volume', 'rm', 'v2'])).stderr).toMatch(/no such volume/i);
    await ok(['volume', 'rm', '-f', 'v2']);
    // prune (API 1.41: every unused volume; newer: anonymous ones unless all=true).
    const pruned = JSON.parse((await docker.raw('POST', '/v1.41/volumes/prune')).body) as { VolumesDeleted: string[] };
    expect(pruned.VolumesDeleted.sort()).toEqual([unnamed, 'v1'].sort());
    expect(await volumeNames()).toEqual([]);
    expect(readdirSync(volumesDir())).toEqual([]);
  }, 420_000); // many docker calls, each a zone or a daemon round: minutes on a loaded 2-core host

  it('a volume shared by two containers: the right owners in both, writable by both, read-only when asked; kept across rm and a daemon restart; 409 while in use', async () => {
    await env.ok(['list']);
    // Container A (its own id range) writes as root, and as the app user (uid 1000) a directory of its own.
    await ok(['run', '-d', '--name', 'va', '-v', 'shared:/mnt', 'host', '/bin/sleep', '600']);
    const mapA = await ok(['exec', 'va', '/bin/sh', '-c', 'echo one > /mnt/f && mkdir /mnt/d && chown 1000:1000 /mnt/d && cat /proc/self/uid_map']);
    // Container B, through --mount: another host range, the same owners as its own ids; it writes too.
    await ok(['run', '-d', '--name', 'vb', '--mount', 'type=volume,src=shared,dst=/mnt', 'host', '/bin/sleep', '600']);
    const inB = (await ok(['exec', 'vb', '/bin/sh', '-c', 'cat /proc/self/uid_map && stat -c "%u:%g %n" /mnt/f /mnt/d && echo two >> /mnt/f && touch /mnt/fromb'])).split('\n');
    expect(mapA.split(/\s+/)[1]).toMatch(/^[0-9]+$/);
    expect(inB[0]!.trim().split(/\s+/)[1]).not.toBe(mapA.split(/\s+/)[1]);
    expect(inB.slice(1)).toEqual(['0:0 /mnt/f', '1000:1000 /mnt/d']);
    await ok(['exec', '-u', '1000', 'vb', '/bin/touch', '/mnt/d/app']);
    expect(await ok(['exec', 'va', '/bin/sh', '-c', 'stat -c "%u:%g %n" /mnt/fromb /mnt/d/app && cat /mnt/f'])).toBe('0:0 /mnt/fromb\n1000:1000 /mnt/d/app\none\ntwo');
    // On the host the files keep the zone ids as they are (no zone's range).
    const data = join(volumesDir(), 'shared', '_data');
    expect([lstatSync(join(data, 'f')).uid, lstatSync(join(data, 'd')).uid, lstatSync(join(data, 'd/app')).gid]).toEqual([0, 1000, 1000]);
    // inspect: the mount, and -v NAME in Binds.
    expect(await ok(['inspect', '--format', '{{range .Mounts}}{{.Type}} {{.Name}} {{.Source}} {{.Destination}} {{.RW}}{{end}}', 'va'])).toBe(`volume shared ${data} /mnt true`);
    // Read-only when asked (--mount ...,readonly: in the --volumes-from case below).
    const ro = await run(['run', '--rm', '-v', 'shared:/mnt:ro', 'host', '/bin/sh', '-c', 'echo x > /mnt/g']);
    expect(ro.code).not.toBe(0);
    expect(ro.stderr).toMatch(/Read-only file system/);
    // In use (running or stopped): 409, -f too.
    const inUse = await docker.raw('DELETE', '/v1.41/volumes/shared?force=1');
    expect(inUse.status).toBe(409);
    expect(JSON.parse(inUse.body).message).toMatch(/volume is in use/);
    await ok(['stop', '-t', '1', 'vb']);
    expect((await run(['volume', 'rm', 'shared'])).stderr).toMatch(/volume is in use/);
    // Kept across rm of both containers and a daemon restart (SIGKILL).
    await ok(['rm', '-f', '-v', 'va', 'vb']);
    expect(await volumeNames()).toEqual(['shared']);
    process.kill(env.daemonPid()!, 'SIGKILL');
    await waitFor(() => env.daemonPid() === undefined, 30_000);
    await env.ok(['list']);
    expect(await ok(['volume', 'ls', '-q', '--filter', 'dangling=true'])).toBe('shared');
    // The data is there; a link a container plants (to a host file, to /) is removed as a link, never followed.
    const canary = join(work, 'canary');
    mkdirSync(canary, { recursive: true });
    writeFileSync(join(canary, 'keep'), 'host file');
    const plant = `cat /mnt/f && ln -s ${canary} /mnt/link && ln -s / /mnt/root && mkdir -p /mnt/deep/er && ln -s ${canary}/keep /mnt/deep/er/file`;
    expect(await ok(['run', '--rm', '-v', 'shared:/mnt', 'host', '/bin/sh', '-c', plant])).toBe('one\ntwo');
    await ok(['volume', 'rm', 'shared']);
    expect(readFileSync(join(canary, 'keep'), 'utf8')).toBe('host file');
    expect(existsSync('/etc/passwd')).toBe(true);
    expect(readdirSync(volumesDir())).toEqual([]);
    expect(hostMounts()).toEqual([]);
  }, 420_000); // many docker calls, each a zone or a daemon round: minutes on a loaded 2-core host
});
