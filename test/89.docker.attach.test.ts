// The first process's input through the real docker client: `docker run -i`
// with piped stdin (end of input reaches it), `docker run -it` typed into
// under script(1) (a terminal of the client's own, its size followed), and
// `docker attach` to a running -dit container, left with the detach keys
// while the container runs on.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { dockerClient } from './support/docker.js';
import { useLifecycleEnv, waitFor } from './support/lifecycle-env.js';

const env = useLifecycleEnv(66);
const docker = dockerClient(env);
const { ok, run } = docker;
const dockerEnv = () => ({ ...process.env, DOCKER_HOST: `unix://${docker.socket}`, DOCKER_CONFIG: `${env.base}/docker-config`, DOCKER_CLI_HINTS: 'false' });

/** A shell command run under script(1), so that the docker client has a terminal; what it printed, and a way to type. */
function underTerminal(cmd: string) {
  const child = spawn('/usr/bin/script', ['-qec', cmd, '/dev/null'], { env: dockerEnv(), cwd: '/' });
  let out = '';
  child.stdout.on('data', (d) => (out += String(d)));
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  return { child, out: () => out, exited, type: (s: string) => child.stdin.write(s) };
}

describe('docker run -i/-it and docker attach', () => {
  it('gives docker run -i the piped stdin, ended when the client\'s ends', async () => {
    await env.ok(['list']);
    const r = await run(['run', '-i', '--rm', 'host', '/bin/sh', '-c', 'cat; echo "[end]"'], { input: 'hi there\nsecond line\n' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('hi there\nsecond line\n[end]\n');
    // Without -i the container has no stdin to attach to: end of file at once.
    const none = await run(['run', '--rm', 'host', '/bin/sh', '-c', 'cat; echo done'], { input: 'ignored\n' });
    expect(none.stdout).toBe('done\n');
  });

  it('types into docker run -it, whose terminal follows the client\'s size; exit ends it with its code', async () => {
    await env.ok(['list']);
    const t = underTerminal("stty cols 101 rows 33; docker run -it --name it1 host /bin/sh");
    try {
      // The shell's prompt on its terminal means it runs and reads.
      expect(await waitFor(() => t.out().includes('#'), 60_000)).toBe(true);
      // The client resizes after the start: polled until the zone's terminal has the size.
      t.type('for i in $(seq 300); do s=$(stty size); [ "$s" = "33 101" ] && break; sleep 0.1; done; echo "size=$s tty=$(tty) $((6*7))"\r');
      expect(await waitFor(() => /size=33 101 tty=\/dev\/pts\/\d+ 42/.test(t.out()), 60_000)).toBe(true);
      // ^C reaches the zone's terminal: the foreground sleep ends, the shell goes on.
      t.type('sleep 100\r');
      await waitFor(() => t.out().includes('sleep 100'), 30_000);
      await new Promise((r) => setTimeout(r, 500));
      t.type('\x03');
      t.type('echo "after=$((1+1))"\r');
      expect(await waitFor(() => t.out().includes('after=2'), 60_000)).toBe(true);
      t.type('exit 7\r');
      expect(await t.exited).toBe(7);
    } finally {
      t.child.kill('SIGKILL');
    }
    // Its output is also in its log, as one stream (a terminal has no stderr).
    expect(await ok(['logs', 'it1'])).toContain('after=2');
    expect(await ok(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}} {{.Config.Tty}}', 'it1'])).toBe('exited 7 true');
    await ok(['rm', 'it1']);
  });

  it('attaches to a running -dit container and leaves it with ctrl-p ctrl-q, the container still running', async () => {
    await env.ok(['list']);
    await ok(['run', '-dit', '--name', 'bg', 'host', '/bin/sh']);
    const t = underTerminal('docker attach bg');
    try {
      t.type('echo "attached=$((2*21))"\r');
      expect(await waitFor(() => t.out().includes('attached=42'), 60_000)).toBe(true);
      t.type('\x10\x11');
      // The client with a terminal watches for the keys itself (as against dockerd): it says so and exits 1.
      expect(await t.exited).toBe(1);
      expect(t.out()).toContain('read escape sequence');
    } finally {
      t.child.kill('SIGKILL');
    }
    expect(await ok(['inspect', '--format', '{{.State.Status}}', 'bg'])).toBe('running');
    // Still reading its terminal: a second attach types into the same shell.
    const again = underTerminal('docker attach bg');
    try {
      again.type('echo "again=$((3*3))"; exit 4\r');
      expect(await again.exited).toBe(4);
      expect(again.out()).toContain('again=9');
    } finally {
      again.child.kill('SIGKILL');
    }
    // Attaching with stdin to a container made without -i is refused plainly.
    await ok(['run', '-d', '--name', 'noin', 'host', '/bin/sleep', '600']);
    const r = await docker.raw('POST', '/v1.41/containers/noin/attach?stream=1&stdin=1&stdout=1');
    expect(r.status).toBe(400);
    expect(r.body).toMatch(/not created with stdin open/);
    await ok(['rm', '-f', 'bg', 'noin']);
  });
});
