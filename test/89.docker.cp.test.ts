// docker cp both ways through the real docker client, and the attack it
// must withstand: the daemon is root, the zone's files are its attacker's.
// Symlinks planted in the zone (to a host file's path, to ../../.., to a
// host directory) lead within the zone only: the copy is done inside it as
// its root, so a host file is never read or written.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dockerClient } from './support/docker.js';
import { useLifecycleEnv } from './support/lifecycle-env.js';

const env = useLifecycleEnv(62);
const docker = dockerClient(env);
const { ok, run } = docker;

describe('docker cp', () => {
  it('copies a file and a directory into a running container and back out', async () => {
    await env.ok(['list']);
    await ok(['run', '-d', '--name', 'cp1', 'host', '/bin/sleep', '600']);
    const src = join(env.base, 'src');
    mkdirSync(join(src, 'dir', 'sub'), { recursive: true });
    writeFileSync(join(src, 'dir', 'a.txt'), 'alpha\n');
    writeFileSync(join(src, 'dir', 'sub', 'b.txt'), 'beta\n');
    writeFileSync(join(src, 'one.txt'), 'one\n');
    await ok(['cp', join(src, 'one.txt'), 'cp1:/tmp/']);
    await ok(['cp', join(src, 'dir'), 'cp1:/tmp/copied']);
    expect(await ok(['exec', 'cp1', 'cat', '/tmp/one.txt', '/tmp/copied/a.txt', '/tmp/copied/sub/b.txt'])).toBe('one\nalpha\nbeta');
    // Files written by the copy belong to the zone's root (as it sees them).
    expect(await ok(['exec', 'cp1', 'stat', '-c', '%u', '/tmp/copied/a.txt'])).toBe('0');
    await ok(['exec', 'cp1', '/bin/sh', '-c', 'mkdir -p /tmp/made/in && echo made > /tmp/made/in/m.txt']);
    const out = join(env.base, 'out');
    mkdirSync(out);
    await ok(['cp', 'cp1:/tmp/made', out]);
    expect(readFileSync(join(out, 'made', 'in', 'm.txt'), 'utf8')).toBe('made\n');
    await ok(['cp', 'cp1:/tmp/one.txt', join(out, 'renamed.txt')]);
    expect(readFileSync(join(out, 'renamed.txt'), 'utf8')).toBe('one\n');
    // A missing path is Docker's 404; a stopped container is refused plainly.
    const missing = await run(['cp', 'cp1:/tmp/nothing-here', out]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/No such container:path: cp1:\/tmp\/nothing-here/);
    await ok(['stop', '-t', '1', 'cp1']);
    const stopped = await run(['cp', 'cp1:/tmp/one.txt', out]);
    expect(stopped.code).not.toBe(0);
    expect(stopped.stderr).toMatch(/only with a running container/);
    await ok(['rm', 'cp1']);
  });

  it('never reads or writes a host file through a symlink planted in the zone', async () => {
    await env.ok(['list']);
    // A host file and directory the zone's root must never reach; their paths are told to the attacker.
    const secretDir = join(env.base, 'hostside');
    mkdirSync(secretDir, { recursive: true });
    writeFileSync(join(secretDir, 'secret'), 'host secret\n');
    // The zone sees its own /tmp (a tmpfs), not the host's /tmp where secretDir is.
    await ok(['run', '-d', '--name', 'evil', 'host', '/bin/sleep', '600']);
    await ok(['exec', 'evil', '/bin/sh', '-c', [
      `ln -s ${secretDir}/secret /tmp/x`,
      'ln -s ../../../../../../../etc/shadow /tmp/up',
      `ln -s ${secretDir} /tmp/d`,
      'ln -s / /tmp/root',
    ].join(' && ')]);
    const out = join(env.base, 'loot');
    mkdirSync(out);
    // Following the link (-L): the client asks for its target, which is the zone's path, not the host's.
    const viaLink = await run(['cp', '-L', 'evil:/tmp/x', join(out, 'x')]);
    expect(viaLink.code).not.toBe(0);
    expect(viaLink.stderr).toMatch(/No such container:path/);
    // /etc/shadow inside the zone is the host's, read-only and root's: the zone's root cannot read it.
    await run(['cp', '-L', 'evil:/tmp/up', join(out, 'up')]);
    const shadow = readFileSync('/etc/shadow', 'utf8');
    for (const f of readdirSync(out)) {
      const got = execFileSync('find', [join(out, f), '-type', 'f', '-exec', 'cat', '{}', '+']).toString();
      expect(shadow.length > 0 && got.includes(shadow.split('\n')[0]!)).toBe(false);
    }
    rmSync(join(out, 'up'), { recursive: true, force: true });
    // Without -L the link itself comes out (as with dockerd), never what it points at on the host.
    await ok(['cp', 'evil:/tmp/x', join(out, 'x-link')]);
    expect(execFileSync('readlink', [join(out, 'x-link')]).toString().trim()).toBe(`${secretDir}/secret`);
    expect(readdirSync(out).sort()).toEqual(['x-link']);
    // Writing through a link to the host directory's path lands in the zone, not on the host.
    const payload = join(env.base, 'payload');
    writeFileSync(payload, 'pwned\n');
    await run(['cp', payload, 'evil:/tmp/d/']);
    await run(['cp', payload, 'evil:/tmp/root/tmp/']);
    expect(readdirSync(secretDir)).toEqual(['secret']);
    expect(readFileSync(join(secretDir, 'secret'), 'utf8')).toBe('host secret\n');
    // A tar whose entry climbs out (../../) stays in the zone too: the zone's tar, inside the zone.
    const climb = join(env.base, 'climb');
    mkdirSync(join(climb, 'a'), { recursive: true });
    writeFileSync(join(climb, 'a', 'f'), 'climbed\n');
    const tar = execFileSync('tar', ['-c', '-f', '-', '-C', join(climb, 'a'), '--transform', `s|^f$|../../../..${secretDir}/planted|`, 'f']);
    const r = await putArchive('evil', '/tmp', tar);
    expect([200, 400, 500]).toContain(r);
    expect(readdirSync(secretDir)).toEqual(['secret']);
    await ok(['rm', '-f', 'evil']);
  });
});

/** PUT /containers/ID/archive with a hand-made tar (the client never makes one that climbs). */
async function putArchive(id: string, path: string, body: Buffer): Promise<number> {
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: docker.socket, method: 'PUT', path: `/v1.41/containers/${id}/archive?path=${encodeURIComponent(path)}`, headers: { 'Content-Type': 'application/x-tar', 'Content-Length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}
