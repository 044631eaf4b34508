// docker exec's streams through the real docker client: output arrives while
// the process runs (not when it ends), stdin reaches it until the client's
// end, and -it gives it a terminal whose size follows the client's (the
// client runs under script(1), which gives it a terminal of its own).
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { useDocker } from './support/docker.js';
import { waitFor } from './support/lifecycle-env.js';

// The CLI and the daemon it starts as built: each test's daemon start from source cost seconds of CPU (builtCliEntry).
const { env, docker, ok, run } = useDocker(93, { builtCli: true });
const dockerEnv = () => ({ ...process.env, DOCKER_HOST: `unix://${docker.socket}`, DOCKER_CONFIG: `${env.base}/docker-config`, DOCKER_CLI_HINTS: 'false' });

describe('docker exec streams', () => {
  it('sends output as it comes, while the process still runs', async () => {
    await env.ok(['list']);
    await ok(['run', '-d', '--name', 'st', 'host', '/bin/sleep', '600']);
    // The process waits for a file that is made only once its first line was seen.
    const child = spawn('/usr/bin/docker', ['exec', 'st', '/bin/sh', '-c', 'echo first; while [ ! -e /tmp/go ]; do sleep 0.1; done; echo second; exit 3'], { env: dockerEnv(), cwd: '/' });
    let out = '';
    child.stdout.on('data', (d) => (out += String(d)));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      expect(await waitFor(() => out.includes('first'), 60_000)).toBe(true);
      expect(out).toBe('first\n');
      await ok(['exec', 'st', 'touch', '/tmp/go']);
      expect(await exited).toBe(3);
      expect(out).toBe('first\nsecond\n');
    } finally {
      child.kill('SIGKILL');
    }
    await ok(['rm', '-f', 'st']);
  });

  it('gives -it a terminal sized as the client\'s, with its keys as input', async () => {
    await env.ok(['list']);
    await ok(['run', '-d', '--name', 'tt', 'host', '/bin/sleep', '600']);
    // The size the client sends reaches the zone's terminal: polled until it has (the client resizes after start).
    const inner = "for i in $(seq 300); do s=$(stty size); [ \"$s\" = \"45 123\" ] && break; sleep 0.1; done; echo \"size=$s tty=$(tty)\"; read -r line; echo \"got=$line\"";
    const cmd = `stty cols 123 rows 45; docker exec -it tt /bin/sh -c '${inner.replace(/'/g, "'\\''")}'`;
    const r = await run(['version', '--format', '{{.Server.Version}}']); // the daemon answers before script starts
    expect(r.code).toBe(0);
    const child = spawn('/usr/bin/script', ['-qec', cmd, '/dev/null'], { env: dockerEnv(), cwd: '/' });
    let out = '';
    child.stdout.on('data', (d) => (out += String(d)));
    const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
    try {
      expect(await waitFor(() => out.includes('size='), 60_000)).toBe(true);
      expect(out).toMatch(/size=45 123 tty=\/dev\/pts\/\d+/);
      child.stdin.write('typed words\r');
      expect(await waitFor(() => out.includes('got='), 60_000)).toBe(true);
      expect(out).toMatch(/got=typed words\r?\n/);
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
    await ok(['rm', '-f', 'tt']);
  });

  it("stats shows the zone's cgroup: once with --no-stream, and as a stream", async () => {
    await env.ok(['list']);
    await ok(['run', '-d', '--name', 'busy', '-m', '64m', '--pids-limit', '20', 'host', '/bin/sh', '-c', 'while :; do :; done']);
    const once = await ok(['stats', '--no-stream', '--format', '{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}|{{.PIDs}}', 'busy']);
    const [name, cpu, mem, pids] = once.split('|');
    expect(name).toBe('busy');
    // A busy loop used some CPU over the sample (no rate is asserted).
    expect(Number(cpu!.replace('%', ''))).toBeGreaterThan(0);
    expect(mem).toMatch(/ \/ 64MiB$/);
    expect(Number(pids)).toBeGreaterThanOrEqual(1);
    // Streaming: the client prints each object as it comes; two of them are enough.
    const child = spawn('/usr/bin/docker', ['stats', '--format', '{{.Name}} {{.PIDs}}', 'busy'], { env: dockerEnv(), cwd: '/' });
    let out = '';
    child.stdout.on('data', (d) => (out += String(d)));
    try {
      expect(await waitFor(() => (out.match(/busy \d+/g) ?? []).length >= 2, 60_000)).toBe(true);
    } finally {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await gone;
    }
    // A stopped container: zeros, not an error.
    await ok(['stop', '-t', '1', 'busy']);
    expect(await ok(['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}}', 'busy'])).toBe('busy 0');
    await ok(['rm', '-f', 'busy']);
  });

  it('events streams what is done through the API, and replays it with --since/--until', async () => {
    await env.ok(['list']);
    // --since: what happened before the client's request reached the daemon is replayed, so no event is missed.
    const since = String(Math.floor(Date.now() / 1000) - 1);
    const child = spawn('/usr/bin/docker', ['events', '--since', since, '--filter', 'type=container', '--format', '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}'], { env: dockerEnv(), cwd: '/' });
    let out = '';
    child.stdout.on('data', (d) => (out += String(d)));
    try {
      await ok(['create', '--name', 'ev', '-l', 'k=v', 'host', '/bin/sleep', '600']);
      await ok(['start', 'ev']);
      await ok(['rm', '-f', 'ev']);
      expect(await waitFor(() => out.includes('container destroy ev'), 60_000)).toBe(true);
      // rm -f of a running container: its end is a die (as dockerd reports), then destroy.
      expect(out).toBe('container create ev\ncontainer start ev\ncontainer die ev\ncontainer destroy ev\n');
    } finally {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await gone;
    }
    const past = await ok(['events', '--since', '0', '--until', String(Math.ceil(Date.now() / 1000)), '--filter', 'label=k=v', '--format', '{{.Action}}']);
    expect(past.split('\n')).toEqual(['create', 'start', 'die', 'destroy']);
    const bad = await docker.raw('GET', `/v1.41/events?filters=${encodeURIComponent('{"nosuch":["x"]}')}`);
    expect([bad.status, JSON.parse(bad.body).message]).toEqual([400, "invalid filter 'nosuch'"]);
  });
});
