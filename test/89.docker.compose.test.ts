// Debian 12's docker-compose (1.29, python, through docker-py) against
// lxzone's Docker API: a two-service file, a web server (busybox httpd of
// the host's root) and a client that reaches it by its service name, comes
// up with `up -d` on the project's own network (a user-defined network, its
// DNS server answering the service names compose gives as aliases), shows
// once each in `ps`, and `down` removes the containers and the network.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { dockerClient } from './support/docker.js';
import { useLifecycleEnv, waitFor } from './support/lifecycle-env.js';
import { describeUnless } from './support/skip.js';

const COMPOSE = '/usr/bin/docker-compose';
const env = useLifecycleEnv(55);
const docker = dockerClient(env);

const compose = (dir: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    execFile(
      COMPOSE,
      ['-p', 'lxzc', ...args],
      { cwd: dir, timeout: 180_000, env: { ...process.env, DOCKER_HOST: `unix://${docker.socket}`, DOCKER_CONFIG: join(env.base, 'docker-config'), COMPOSE_INTERACTIVE_NO_CLI: '1' } },
      (err, stdout, stderr) => resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0, stdout, stderr }),
    );
  });

describeUnless(existsSync(COMPOSE) ? undefined : `${COMPOSE} is not installed (apt-get install docker-compose; .ci/run does)`, 'docker-compose 1.29', () => {
  it('brings up a web server and a client that reaches it by service name, lists them, and tears both down with the network', async () => {
    await env.ok(['list']); // the daemon, which serves docker.sock
    await waitFor(() => existsSync(docker.socket), 30_000);
    const dir = join(env.base, 'project');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'docker-compose.yml'),
      [
        'version: "3"',
        'services:',
        '  web:',
        '    image: host',
        '    command: ["busybox", "httpd", "-f", "-p", "8080", "-h", "/etc"]',
        '  client:',
        '    image: host',
        '    command: ["sleep", "600"]',
        '    depends_on: [web]',
        '',
      ].join('\n'),
    );
    const up = await compose(dir, ['up', '-d']);
    expect(up.code, up.stderr).toBe(0);
    const ps = await compose(dir, ['ps']);
    expect(ps.code, ps.stderr).toBe(0);
    const rows = ps.stdout.split('\n').filter((l) => /^lxzc_/.test(l));
    expect(rows.map((r) => r.split(/\s+/)[0]).sort()).toEqual(['lxzc_client_1', 'lxzc_web_1']);
    for (const r of rows) expect(r).toMatch(/\bUp\b/);
    expect(await docker.ok(['network', 'ls', '--format', '{{.Name}}'])).toContain('lxzc_default');

    // The client reaches the web server by its service name (httpd may still be starting: polled).
    const get = `require('http').get('http://web:8080/debian_version',{timeout:3000},r=>r.pipe(process.stdout)).on('error',e=>{console.error(e.message);process.exit(2)})`;
    const body = await waitFor(async () => {
      const r = await compose(dir, ['exec', '-T', 'client', process.execPath, '-e', get]);
      return r.code === 0 ? r.stdout.trim() : '';
    }, 60_000, 500);
    expect(body).toMatch(/^\d+(\.\d+)*$/);

    const down = await compose(dir, ['down']);
    expect(down.code, down.stderr).toBe(0);
    expect(await docker.ok(['ps', '-a', '--format', '{{.Names}}'])).toBe('');
    expect((await docker.ok(['network', 'ls', '--format', '{{.Name}}'])).split('\n').sort()).toEqual(['bridge', 'none']);
  });
});
