// The real docker client (Debian's docker.io: /usr/bin/docker) against a
// test's private lxzone daemon: DOCKER_HOST is the daemon's Docker socket in
// the test's runtime directory, DOCKER_CONFIG a directory of the test's own
// (the client writes there), so nothing is read from or left in ~/.docker.
// No dockerd is ever started.
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import type { LifecycleEnv } from './lifecycle-env.js';

export const DEBIAN_DOCKER = '/usr/bin/docker';

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
  return { socket, run, ok, raw };
}
