// The Docker Engine API on the daemon's socket, driven by the real docker
// client (Debian 12's docker.io, API 1.41) and by raw requests: version
// negotiation like dockerd's, Docker's JSON errors with their statuses, and
// a socket only its owner can reach.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { renderDockerApiDoc } from '../src/daemon/docker/api-doc.js';
import { describe, expect, it } from 'vitest';
import { dockerClient } from './support/docker.js';
import { useLifecycleEnv } from './support/lifecycle-env.js';
import { repoRoot } from './support/zones.js';
import { itUnless } from './support/skip.js';

const env = useLifecycleEnv(88);
const docker = dockerClient(env);
const NEW_CLIENT = '/usr/local/bin/docker';

/** The daemon starts on demand with any lxzone verb; it serves the Docker socket beside its own. */
async function daemon(): Promise<void> {
  await env.ok(['list']);
  expect(existsSync(docker.socket)).toBe(true);
}

describe('the Docker API socket', () => {
  it('is served by the daemon, owned by it and 0600 (no group, no others)', async () => {
    await daemon();
    const st = statSync(docker.socket);
    expect(st.isSocket()).toBe(true);
    expect([st.uid, st.mode & 0o777]).toEqual([process.getuid!(), 0o600]);
  });

  it('answers docker version and docker info from the Debian client (API 1.41 negotiated down from 1.44)', async () => {
    await daemon();
    const v = JSON.parse(await docker.ok(['version', '--format', '{{json .}}'])) as { Client: { ApiVersion: string }; Server: { ApiVersion: string; MinAPIVersion: string; Version: string } };
    expect(v.Client.ApiVersion).toBe('1.41');
    expect([v.Server.ApiVersion, v.Server.MinAPIVersion]).toEqual(['1.44', '1.24']);
    expect(v.Server.Version).toMatch(/lxzone/);
    const info = JSON.parse(await docker.ok(['info', '--format', '{{json .}}'])) as { Driver: string; Containers: number; OSType: string; NCPU: number };
    expect([info.Driver, info.Containers, info.OSType]).toEqual(['lxzone', 0, 'linux']);
    expect(info.NCPU).toBeGreaterThan(0);
  });

  itUnless(existsSync(NEW_CLIENT) ? undefined : `${NEW_CLIENT} (a current docker client) is not installed; Debian 12 has only docker.io's 20.10 client`, 'negotiates a current client (API 1.50) down to 1.44', async () => {
    await daemon();
    const fresh = dockerClient(env, NEW_CLIENT);
    const v = JSON.parse(await fresh.ok(['version', '--format', '{{json .}}'])) as { Client: { ApiVersion: string } };
    expect(v.Client.ApiVersion).toBe('1.44');
  });

  it('answers /_ping with dockerd headers, versioned and unversioned paths alike', async () => {
    await daemon();
    const ping = await docker.raw('GET', '/_ping');
    expect([ping.status, ping.body, ping.headers['api-version'], ping.headers.ostype]).toEqual([200, 'OK', '1.44', 'linux']);
    const head = await docker.raw('HEAD', '/_ping');
    expect(head.status).toBe(200);
    for (const p of ['/version', '/v1.24/version', '/v1.41/version', '/v1.44/version']) {
      const r = await docker.raw('GET', p);
      expect([p, r.status]).toEqual([p, 200]);
      expect((JSON.parse(r.body) as { ApiVersion: string }).ApiVersion).toBe('1.44');
    }
  });

  it("refuses versions outside 1.24..1.44, unknown paths and bad bodies with Docker's JSON errors", async () => {
    await daemon();
    const cases: [string, string, unknown, number, RegExp][] = [
      ['GET', '/v1.45/version', undefined, 400, /client version 1\.45 is too new\. Maximum supported API version is 1\.44/],
      ['GET', '/v1.12/version', undefined, 400, /client version 1\.12 is too old\. Minimum supported API version is 1\.24/],
      ['GET', '/v1.41/no/such/thing', undefined, 404, /^page not found$/],
      ['DELETE', '/version', undefined, 404, /^page not found$/],
      ['POST', '/v1.41/containers/create', '{not json', 400, /invalid JSON/],
      ['POST', '/v1.41/containers/create', { Image: 'host' }, 400, /No command specified/],
      ['POST', '/v1.41/containers/create?name=Bad%20Name', { Image: 'host', Cmd: ['true'] }, 400, /Invalid container name/],
      ['GET', '/v1.41/containers/nosuch/json', undefined, 404, /^No such container: nosuch$/],
      ['GET', '/v1.41/containers/json?filters=%7Bbad', undefined, 400, /invalid filter/],
      ['GET', '/v1.41/images/nosuch/json', undefined, 404, /^No such image: nosuch$/],
    ];
    for (const [method, path, body, status, msg] of cases) {
      const r = await docker.raw(method, path, body);
      expect([method, path, r.status, r.headers['content-type']]).toEqual([method, path, status, 'application/json']);
      expect((JSON.parse(r.body) as { message: string }).message).toMatch(msg);
    }
    // The client shows the daemon's message as it is.
    const r = await docker.run(['inspect', 'nosuch']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/No such (container|object): nosuch/);
    // Nothing was made by the refused creates.
    expect(env.store.list()).toEqual([]);
  });
});

describe('docs/docker-api.md', () => {
  it('is generated from the route table (else: npm run gen:docker-docs)', () => {
    expect(readFileSync(join(repoRoot, 'docs', 'docker-api.md'), 'utf8')).toBe(renderDockerApiDoc());
  });
});
