// LXZONE_DOCKER_GROUP: the Docker socket is 0660 for that group (at the path
// LXZONE_DOCKER_SOCKET names, outside the private runtime directory), so a
// user of the group reaches the API and any other user does not. The
// clients run as nobody through setpriv, with and without the group.
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { useLifecycleEnv } from './support/lifecycle-env.js';

const env = useLifecycleEnv(94);
const GID = 4242; // any group id: setpriv gives it to the client without /etc/group
const NOBODY = 65534;
const dir = mkdtempSync('/tmp/lxzone-88g-');
chmodSync(dir, 0o711); // others may pass through to the socket, not list the directory
const socket = join(dir, 'docker.sock');
const config = join(dir, 'client');
mkdirSync(config, { mode: 0o777 });
chmodSync(config, 0o777);

afterAll(() => {
  delete process.env.LXZONE_DOCKER_GROUP;
  delete process.env.LXZONE_DOCKER_SOCKET;
  rmSync(dir, { recursive: true, force: true });
});

const asNobody = (groups: number[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const g = groups.length ? ['--groups', groups.join(',')] : ['--clear-groups'];
    execFile(
      '/usr/bin/setpriv',
      ['--reuid', String(NOBODY), '--regid', String(NOBODY), ...g, '/usr/bin/docker', 'version', '--format', '{{.Server.Version}}'],
      { env: { PATH: process.env.PATH, HOME: config, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: config, DOCKER_CLI_HINTS: 'false' }, cwd: '/', timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });

describe('LXZONE_DOCKER_GROUP', () => {
  it("opens the socket to the group's members only", async () => {
    process.env.LXZONE_DOCKER_GROUP = String(GID);
    process.env.LXZONE_DOCKER_SOCKET = socket;
    await env.ok(['list']); // the daemon, with this environment
    const st = statSync(socket);
    expect([st.isSocket(), st.uid, st.gid, st.mode & 0o777]).toEqual([true, process.getuid!(), GID, 0o660]);
    const member = await asNobody([GID]);
    expect([member.code, member.stderr]).toEqual([0, '']);
    expect(member.stdout).toMatch(/lxzone/);
    const other = await asNobody([]);
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/permission denied/);
  });
});
