// Containers through the real docker client: each one an lxzone zone of the
// same name, made and run through the lifecycle, with its own address kept
// across stop/start and restart; Docker's errors for what is refused; and
// nothing left behind after docker rm.
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dockerClient } from './support/docker.js';
import { useLifecycleEnv, waitFor } from './support/lifecycle-env.js';

const env = useLifecycleEnv(89);
const docker = dockerClient(env);
const { ok, run } = docker;

const inspect = async (name: string) => JSON.parse(await ok(['inspect', name]))[0] as {
  Id: string;
  State: { Status: string; Running: boolean; Pid: number; ExitCode: number };
  Config: { Env: string[]; Labels: Record<string, string>; Hostname: string; WorkingDir: string };
  HostConfig: { Memory: number; NanoCpus: number; PidsLimit: number | null; RestartPolicy: { Name: string } };
  NetworkSettings: { IPAddress: string; GlobalIPv6Address: string; Networks: Record<string, { IPAddress: string }> };
};

async function logs(name: string, args: string[] = []): Promise<{ stdout: string; stderr: string }> {
  const r = await run(['logs', ...args, name]);
  expect(r.code).toBe(0);
  return { stdout: r.stdout, stderr: r.stderr };
}

describe('docker run -d, ps, inspect, logs, stop/start/restart, rm', () => {
  it('runs a zone per container with the options the client passes, keeps its address, and leaves nothing after rm', async () => {
    await env.ok(['list']); // the daemon, which serves docker.sock
    const id = await ok([
      'run', '-d', '--name', 'web', '-e', 'GREETING=hello', '-w', '/usr', '--hostname', 'box1', '-l', 'app=shop', '-l', 'tier=web',
      '-m', '64m', '--cpus', '0.5', '--pids-limit', '50', '--restart', 'on-failure:2',
      'host', '/bin/sh', '-c', 'echo "$GREETING from $(hostname) in $(pwd) as $(id -u)"; echo oops >&2; exec sleep 600',
    ]);
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    // It is a zone, running, under the same name.
    expect((await env.list()).map((z) => [z.name, z.state])).toEqual([['web', 'running']]);

    const c = await inspect('web');
    expect(c.Id).toBe(id);
    expect([c.State.Status, c.State.Running]).toEqual(['running', true]);
    expect(c.Config.Env).toContain('GREETING=hello');
    expect([c.Config.Labels, c.Config.Hostname, c.Config.WorkingDir]).toEqual([{ app: 'shop', tier: 'web' }, 'box1', '/usr']);
    expect([c.HostConfig.Memory, c.HostConfig.NanoCpus, c.HostConfig.PidsLimit, c.HostConfig.RestartPolicy.Name]).toEqual([64 * 1024 * 1024, 500_000_000, 50, 'on-failure']);
    const ip = c.NetworkSettings.IPAddress;
    expect(ip.startsWith(env.net)).toBe(true);
    expect(c.NetworkSettings.Networks.bridge!.IPAddress).toBe(ip);
    expect(c.NetworkSettings.GlobalIPv6Address).toMatch(/:/);
    // The caps are the zone's cgroup's.
    const zone = await env.inspect('web');
    expect(zone.config?.resources).toEqual({ memoryBytes: 64 * 1024 * 1024, cpus: 0.5, pidsMax: 50 });

    await waitFor(async () => (await logs('web')).stdout.includes('hello'));
    const l = await logs('web');
    expect(l.stdout).toBe('hello from box1 in /usr as 0\n');
    expect(l.stderr).toBe('oops\n');
    expect((await logs('web', ['--tail', '0'])).stdout).toBe('');

    // ps: running only by default, filters and --format on the client's side.
    await ok(['create', '--name', 'idle', '-l', 'app=other', 'host', '/bin/true']);
    expect(await ok(['ps', '--format', '{{.Names}}'])).toBe('web');
    expect((await ok(['ps', '-a', '--format', '{{.Names}} {{.State}}'])).split('\n').sort()).toEqual(['idle created', 'web running']);
    expect(await ok(['ps', '-a', '--filter', 'label=app=other', '--format', '{{.Names}}'])).toBe('idle');
    expect(await ok(['ps', '-a', '--filter', 'status=running', '-q', '--no-trunc'])).toBe(id);
    expect(await ok(['ps', '--filter', 'name=we', '--format', '{{.ID}} {{.Image}} {{.Label "tier"}}'])).toBe(`${id.slice(0, 12)} host web`);

    // The address is the container's from create to rm: stop/start and restart keep it.
    await ok(['stop', '-t', '1', 'web']);
    expect((await inspect('web')).State.Status).toBe('exited');
    expect((await inspect('web')).NetworkSettings.IPAddress).toBe(ip);
    await ok(['start', 'web']);
    expect((await inspect('web')).State.Status).toBe('running');
    await ok(['restart', '-t', '1', 'web']);
    const again = await inspect('web');
    expect([again.State.Status, again.NetworkSettings.IPAddress]).toEqual(['running', ip]);

    // rm of a running container needs -f; then nothing is left: zone, state, Docker metadata.
    const busy = await run(['rm', 'web']);
    expect(busy.code).not.toBe(0);
    expect(busy.stderr).toMatch(/You cannot remove a running container/);
    await ok(['rm', '-f', 'web', 'idle']);
    expect(await ok(['ps', '-a', '-q'])).toBe('');
    expect(env.store.list()).toEqual([]);
    expect(readdirSync(join(env.stateDir, 'docker', 'containers'))).toEqual([]);
    expect(existsSync(join(env.runtimeDir, 'zones', 'web.json'))).toBe(false);
  });
});

describe('docker run in the foreground, wait, kill, --rm', () => {
  it("shows the container's output and ends with its exit code; --rm removes it", async () => {
    await env.ok(['list']);
    const r = await run(['run', '--rm', '--name', 'once', 'host', '/bin/sh', '-c', 'echo out; echo err >&2; exit 7']);
    expect([r.code, r.stdout, r.stderr]).toEqual([7, 'out\n', 'err\n']);
    await waitFor(() => !env.store.list().includes('once'), 10_000);
    expect(env.store.list()).toEqual([]);
    expect(await ok(['ps', '-a', '-q'])).toBe('');

    // --entrypoint and -u: the client's Entrypoint and User.
    const u = await run(['run', '--rm', '--entrypoint', '/bin/sh', '-u', '1000:1000', 'host', '-c', 'id -u; id -g']);
    expect([u.code, u.stdout]).toEqual([0, '1000\n1000\n']);
  });

  it('kill sends the signal, wait answers the exit code', async () => {
    await env.ok(['list']);
    await ok(['run', '-d', '--name', 'sleeper', 'host', '/bin/sh', '-c', "trap 'exit 42' USR1; while :; do sleep 0.1; done"]);
    await waitFor(async () => (await inspect('sleeper')).State.Running);
    await ok(['kill', '-s', 'USR1', 'sleeper']);
    expect(await ok(['wait', 'sleeper'])).toBe('42');
    const c = await inspect('sleeper');
    expect([c.State.Status, c.State.ExitCode]).toEqual(['exited', 42]);
    const k = await run(['kill', 'sleeper']);
    expect(k.code).not.toBe(0);
    expect(k.stderr).toMatch(/is not running/);
    await ok(['rm', 'sleeper']);
    expect(env.store.list()).toEqual([]);
  });
});

describe('bind mounts and refusals', () => {
  it('binds a host directory (-v HOST:PATH and :ro); refuses what a zone cannot do with Docker errors, making nothing', async () => {
    await env.ok(['list']);
    const dir = mkdtempSync('/tmp/lxz89-bind-');
    try {
      writeFileSync(join(dir, 'in.txt'), 'from the host\n', { mode: 0o644 });
      chmodSync(dir, 0o777); // the zone's root is not host root: it writes as "others"
      // The host's root is read-only in the zone: a bind goes on a directory that exists there (/mnt).
      const r = await run(['run', '--rm', '-v', `${dir}:/mnt`, 'host', '/bin/sh', '-c', 'cat /mnt/in.txt; echo back > /mnt/out.txt']);
      expect([r.code, r.stdout]).toEqual([0, 'from the host\n']);
      expect(readFileSync(join(dir, 'out.txt'), 'utf8')).toBe('back\n');
      const ro = await run(['run', '--rm', '-v', `${dir}:/mnt:ro`, 'host', '/bin/sh', '-c', 'echo x > /mnt/out.txt']);
      expect(ro.code).not.toBe(0);
      expect(ro.stderr).toMatch(/Read-only file system/);
      // A target the read-only root lacks: the start fails with the zone's reason, and --rm leaves nothing.
      const missing = await run(['run', '--rm', '-v', `${dir}:/no-such-dir`, 'host', 'true']);
      expect(missing.code).not.toBe(0);
      expect(missing.stderr).toMatch(/create mount target \/no-such-dir/);
      expect(env.store.list()).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const refused: [string[], RegExp][] = [
      [['run', '-d', '-v', 'b@d:/data', 'host', 'true'], /"b@d" includes invalid characters for a local volume name/],
      [['run', '-d', '-p', '8080:80/sctp', 'host', 'true'], /publishes tcp and udp ports only/],
      [['run', '-d', '--privileged', 'host', 'true'], /--privileged is not supported/],
      [['run', '-d', 'host'], /No command specified/],
      [['run', '-d', '--name=b@d', 'host', 'true'], /Invalid container name \(b@d\)/],
      [['run', '-d', '--network', 'host', 'host', 'true'], /network host not found/],
      [['run', '-d', '127.0.0.1:1/none:1', 'true'], /127.0.0.1:1\/none: manifest 1: cannot reach http:\/\/127.0.0.1:1 /],
      [['logs', 'nosuch'], /No such container: nosuch/],
    ];
    for (const [args, msg] of refused) {
      const r = await run(args);
      expect([args.join(' '), r.code === 0]).toEqual([args.join(' '), false]);
      expect(r.stderr).toMatch(msg);
    }
    // A name in use: 409, and the first container stays.
    await ok(['create', '--name', 'taken', 'host', 'true']);
    const dup = await run(['create', '--name', 'taken', 'host', 'true']);
    expect(dup.stderr).toMatch(/The container name "\/taken" is already in use/);
    await ok(['rm', 'taken']);
    // A Docker name that is no zone name (capitals): the zone is named by the container's id.
    const upper = await ok(['create', '--name', 'UPPER', 'host', 'true']);
    expect(await ok(['inspect', '--format', '{{.Name}}', 'UPPER'])).toBe('/UPPER');
    expect(env.store.list()).toEqual([upper.slice(0, 12)]);
    await ok(['rm', 'UPPER']);
    expect(env.store.list()).toEqual([]);
    expect(readdirSync(join(env.stateDir, 'docker', 'containers'))).toEqual([]);
  });
});

describe('docker exec', () => {
  it('runs a process in the running zone with -e, -w, -u and -i, gives its exit code', async () => {
    await env.ok(['list']);
    await ok(['run', '-d', '--name', 'ex', '--hostname', 'exbox', 'host', '/bin/sleep', '600']);
    const r = await run(['exec', 'ex', '/bin/sh', '-c', 'echo "in $(hostname)"; echo err >&2; exit 4']);
    expect([r.code, r.stdout, r.stderr]).toEqual([4, 'in exbox\n', 'err\n']);
    const o = await run(['exec', '-e', 'FOO=bar', '-w', '/usr', '-u', '1000:1000', 'ex', '/bin/sh', '-c', 'echo "$FOO $(pwd) $(id -u)"']);
    expect([o.code, o.stdout]).toEqual([0, 'bar /usr 1000\n']);
    // -i: what the client reads from its stdin, up to its end, and nothing else.
    const i = await run(['exec', '-i', 'ex', '/bin/cat'], { input: 'hello\nworld\n' });
    expect([i.code, i.stdout]).toEqual([0, 'hello\nworld\n']);
    // The exec'd process is in the zone: it sees the zone's init as pid 1, not the host's.
    const p = await run(['exec', 'ex', '/bin/cat', '/proc/1/cmdline']);
    expect(p.stdout.replace(/\0/g, ' ')).toMatch(/sleep 600/);
    const missing = await run(['exec', 'ex', '/no/such/binary']);
    expect(missing.code).not.toBe(0);
    await ok(['stop', '-t', '1', 'ex']);
    const stopped = await run(['exec', 'ex', 'true']);
    expect(stopped.stderr).toMatch(/is not running/);
    await ok(['rm', 'ex']);
    expect(env.store.list()).toEqual([]);
  });
});

describe('a container across a daemon SIGKILL', () => {
  it('keeps running with the same address and process; the next daemon serves it through docker again', async () => {
    await env.ok(['list']);
    await ok(['run', '-d', '--name', 'lasting', 'host', '/bin/sleep', '600']);
    const before = await inspect('lasting');
    const pid = env.daemonPid()!;
    process.kill(pid, 'SIGKILL');
    await waitFor(() => env.daemonPid() === undefined, 30_000);
    await env.ok(['list']); // a new daemon, which serves docker.sock again
    await waitFor(() => existsSync(docker.socket), 30_000);
    const after = await inspect('lasting');
    expect([after.Id, after.State.Status, after.State.Pid, after.NetworkSettings.IPAddress, after.NetworkSettings.GlobalIPv6Address]).toEqual([
      before.Id,
      'running',
      before.State.Pid,
      before.NetworkSettings.IPAddress,
      before.NetworkSettings.GlobalIPv6Address,
    ]);
    await ok(['restart', '-t', '1', 'lasting']);
    expect((await inspect('lasting')).NetworkSettings.IPAddress).toBe(before.NetworkSettings.IPAddress);
    await ok(['rm', '-f', 'lasting']);
    expect(env.store.list()).toEqual([]);
  });
});

describe('docker pause/unpause and top', () => {
  it("freezes the zone's cgroup (its output stops) and thaws it; top lists the zone's processes", async () => {
    await env.ok(['list']);
    await ok(['run', '-d', '--name', 'ticker', 'host', '/bin/sh', '-c', 'while :; do echo tick; sleep 0.1; done']);
    const ticks = async () => (await logs('ticker')).stdout.split('\n').filter(Boolean).length;
    await waitFor(async () => (await ticks()) > 3);
    const top = await ok(['top', 'ticker']);
    expect(top.split('\n')[0]).toMatch(/UID\s+PID\s+PPID/);
    expect(top).toMatch(/while :; do echo tick/);
    expect(top).not.toMatch(/vitest/);

    await ok(['pause', 'ticker']);
    expect((await inspect('ticker')).State.Status).toBe('paused');
    expect(await ok(['ps', '--format', '{{.Status}}'])).toMatch(/\(Paused\)$/);
    await new Promise((r) => setTimeout(r, 300));
    const frozen = await ticks();
    await new Promise((r) => setTimeout(r, 1000));
    expect(await ticks()).toBe(frozen);
    const twice = await run(['pause', 'ticker']);
    expect(twice.stderr).toMatch(/already paused/);

    await ok(['unpause', 'ticker']);
    expect((await inspect('ticker')).State.Status).toBe('running');
    await waitFor(async () => (await ticks()) > frozen + 3);
    expect(await ticks()).toBeGreaterThan(frozen + 3);
    // A paused container is thawed before it is removed.
    await ok(['pause', 'ticker']);
    await ok(['rm', '-f', 'ticker']);
    expect(env.store.list()).toEqual([]);
  });
});
