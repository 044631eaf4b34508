// `lxzone daemon --docker-tls HOST:PORT`: the Docker API on TCP with mutual
// TLS only. Certificates made by openssl here: the real docker client with a
// certificate the CA signed gets in; without one, with one of another CA, or
// without TLS at all it is refused; bad flags are exit code 2.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { DEBIAN_DOCKER } from './support/docker.js';
import { useLifecycleEnv } from './support/lifecycle-env.js';

const env = useLifecycleEnv(64);
const repoRoot = join(import.meta.dirname, '..');
let daemon: ChildProcess | undefined;

afterAll(async () => {
  if (daemon && daemon.exitCode === null) {
    daemon.kill('SIGTERM');
    await new Promise((r) => daemon!.once('exit', r));
  }
});

const openssl = (args: string[], cwd: string) => execFileSync('openssl', args, { cwd, stdio: 'pipe' });

/** A CA, a server certificate for 127.0.0.1 and a client certificate it signs; a client certificate of another CA. */
function makeCerts(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const ca of ['ca', 'rogue-ca']) {
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${ca}`, '-keyout', `${ca}-key.pem`, '-out', `${ca}.pem`], dir);
  }
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  const issue = (name: string, ca: string, ext: string) => {
    openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}-key.pem`, '-out', `${name}.csr`], dir);
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}-key.pem`, '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', `${name}.pem`], dir);
  };
  issue('server', 'ca', 'server.ext');
  issue('client', 'ca', 'client.ext');
  issue('rogue', 'rogue-ca', 'client.ext');
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** The docker client against tcp://127.0.0.1:PORT with these TLS flags. */
function docker(port: number, tlsArgs: string[], args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const config = join(env.base, 'docker-config');
  mkdirSync(config, { recursive: true, mode: 0o700 });
  return new Promise((resolve) => {
    execFile(DEBIAN_DOCKER, [...tlsArgs, '-H', `tcp://127.0.0.1:${port}`, ...args], { env: { PATH: process.env.PATH, DOCKER_CONFIG: config, DOCKER_CLI_HINTS: 'false' }, timeout: 60_000, cwd: '/' }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0, stdout, stderr });
    });
  });
}

describe('lxzone daemon --docker-tls', () => {
  it('lets in a client whose certificate the CA signed, and no other', async () => {
    const dir = join(env.base, 'certs');
    makeCerts(dir);
    const port = await freePort();
    const f = (n: string) => join(dir, n);
    daemon = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test', 'support', 'cli-entry.ts'), 'daemon', '--docker-tls', `127.0.0.1:${port}`,
      '--tlscacert', f('ca.pem'), '--tlscert', f('server.pem'), '--tlskey', f('server-key.pem')], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    daemon.stderr!.on('data', (c: Buffer) => (log += c.toString()));
    const good = ['--tlsverify', '--tlscacert', f('ca.pem'), '--tlscert', f('client.pem'), '--tlskey', f('client-key.pem')];
    let r = await docker(port, good, ['version', '--format', '{{.Server.APIVersion}}']);
    for (let i = 0; i < 120 && r.code !== 0; i++) {
      await sleep(500);
      r = await docker(port, good, ['version', '--format', '{{.Server.APIVersion}}']);
    }
    expect(r.code, `${r.stderr}\n${log}`).toBe(0);
    expect(r.stdout.trim()).toMatch(/^1\.\d+$/);
    expect((await docker(port, good, ['ps', '-a', '-q'])).code).toBe(0);
    // No client certificate: the handshake fails.
    const none = await docker(port, ['--tlsverify', '--tlscacert', f('ca.pem')], ['version']);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toMatch(/certificate|tls|remote error/i);
    // A certificate of another CA.
    const rogue = await docker(port, ['--tlsverify', '--tlscacert', f('ca.pem'), '--tlscert', f('rogue.pem'), '--tlskey', f('rogue-key.pem')], ['version']);
    expect(rogue.code).not.toBe(0);
    expect(rogue.stderr).toMatch(/certificate|tls|remote error/i);
    // Plain HTTP on the port: no API.
    const plain = await docker(port, [], ['version', '--format', '{{.Server.APIVersion}}']);
    expect(plain.code).not.toBe(0);
    daemon.kill('SIGTERM');
    await new Promise((res) => daemon!.once('exit', res));
    // The port taken by another listener: the daemon does not start (exit 1, saying why), nothing left.
    const holder = createServer();
    await new Promise<void>((res) => holder.listen(port, '127.0.0.1', () => res()));
    try {
      const taken = await env.cli(['daemon', '--docker-tls', `127.0.0.1:${port}`, '--tlscacert', f('ca.pem'), '--tlscert', f('server.pem'), '--tlskey', f('server-key.pem')]);
      expect(taken.code, taken.stderr).toBe(1);
      expect(taken.stderr).toMatch(new RegExp(`--docker-tls 127\\.0\\.0\\.1:${port} cannot be served: the port is in use`));
      expect(taken.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(env.daemonPid()).toBeUndefined();
    } finally {
      await new Promise((res) => holder.close(res));
    }
  });

  it('refuses incomplete or unusable TLS flags with exit code 2', async () => {
    const noCerts = await env.cli(['daemon', '--docker-tls', '127.0.0.1:2376']);
    expect(noCerts.code).toBe(2);
    expect(noCerts.stderr).toMatch(/--docker-tls needs --tlscacert/);
    const badAddr = await env.cli(['daemon', '--docker-tls', 'nowhere', '--tlscacert', '/nonexistent', '--tlscert', '/x', '--tlskey', '/y']);
    expect(badAddr.code).toBe(2);
    expect(badAddr.stderr).toMatch(/must be HOST:PORT/);
    const missing = await env.cli(['daemon', '--docker-tls', '127.0.0.1:2376', '--tlscacert', '/nonexistent/ca.pem', '--tlscert', '/x', '--tlskey', '/y']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--tlscacert \/nonexistent\/ca.pem/);
    const orphan = await env.cli(['daemon', '--tlscert', '/x']);
    expect(orphan.code).toBe(2);
    expect(env.daemonPid()).toBeUndefined();
  });
});
