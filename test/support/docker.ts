// The real docker client (Debian's docker.io: /usr/bin/docker) against a
// test's private lxzone daemon: DOCKER_HOST is the daemon's Docker socket in
// the test's runtime directory, DOCKER_CONFIG a directory of the test's own
// (the client writes there), so nothing is read from or left in ~/.docker.
// No dockerd is ever started.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { expect } from 'vitest';
import { useLifecycleEnv, waitFor, type LifecycleEnv } from './lifecycle-env.js';
import { rootOnly } from './skip.js';

export const DEBIAN_DOCKER = '/usr/bin/docker';

/** Why a suite of the docker client cannot run here: not root (`what` needs root), or no Debian docker client. */
export function dockerUnavailable(what: string): string | undefined {
  return rootOnly(what) ?? (existsSync(DEBIAN_DOCKER) ? undefined : `${DEBIAN_DOCKER} not installed (apt-get install docker.io; .ci/run does)`);
}

export interface DockerResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function dockerClient(env: LifecycleEnv, bin = DEBIAN_DOCKER) {
  const socket = join(env.runtimeDir, 'docker.sock');
  const config = join(env.base, 'docker-config');
  mkdirSync(config, { recursive: true, mode: 0o700 });
  const run = (args: string[], o: { timeoutMs?: number; input?: string } = {}): Promise<DockerResult> =>
    new Promise((resolve) => {
      const child = execFile(
        bin,
        args,
        { env: { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: config, DOCKER_CLI_HINTS: 'false' }, timeout: o.timeoutMs ?? 120_000, cwd: '/' },
        (err, stdout, stderr) => {
          const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
          resolve({ code, stdout, stderr });
        },
      );
      child.stdin?.end(o.input ?? '');
    });
  /** `docker ARGS` that must succeed; its stdout, trimmed. */
  const ok = async (args: string[]): Promise<string> => {
    const r = await run(args);
    if (r.code !== 0) throw new Error(`docker ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout.trim();
  };
  /** A raw HTTP request on the socket: status, headers and body. */
  const raw = (method: string, path: string, body?: unknown): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> =>
    new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
      const req = request({ socketPath: socket, method, path, headers: data ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {} }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', reject);
      req.end(data);
    });
  /**
   * The installation's daemon started (any lxzone command starts it; it serves
   * docker.sock) and answering the client: a socket file left by a daemon
   * that was killed is there before the new one listens.
   */
  const up = async (): Promise<void> => {
    await env.ok(['list']);
    expect(await waitFor(async () => (await run(['version'])).code === 0, 60_000, 200)).toBe(true);
  };
  return { socket, run, ok, raw, up };
}

export type DockerClient = ReturnType<typeof dockerClient>;

/**
 * A docker test file's setup: its private installation (useLifecycleEnv:
 * reset after each test, removed after the file) and the client on that
 * installation's socket. `skip`: why the file's suites cannot run here; they
 * are skipped, so nothing would remove the installation's directory: it is
 * removed at once. `builtCli`: the CLI (and so the daemon it starts) as
 * built, see lifecycle-env.ts builtCliEntry.
 */
export function useDocker(tag: number, o: { skip?: string; builtCli?: boolean } = {}): DockerClient & { env: LifecycleEnv; docker: DockerClient } {
  const env = useLifecycleEnv(tag, { builtCli: o.builtCli });
  const docker = dockerClient(env);
  if (o.skip !== undefined) rmSync(env.base, { recursive: true, force: true });
  return { ...docker, env, docker };
}
