// lxzone exec, attacked (issue 14.1): the joined process is in every one of
// the zone's namespaces and cgroups (the zone's memory and pids caps hold for
// it, stats count it), and it never holds a host fd: a zone process that
// takes over its fds (same uid: /proc/PID/fd) finds only pipes its keeper
// owns, and after the exec returned can neither read what the caller's
// terminal receives next nor write to the caller's output.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, closeSync, constants, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { zoneStats } from '../src/zone/lifecycle/api.js';
import type { ZoneInfo } from '../src/zone/lifecycle/types.js';
import { useLifecycleEnv, waitFor } from './support/lifecycle-env.js';
import { repoRoot } from './support/zones.js';

const dirs: string[] = [];
const env = useLifecycleEnv(77, {
  afterReset: () => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  },
});
const { cli, ok } = env;
const MiB = 1024 * 1024;

async function bootCapped(): Promise<ZoneInfo> {
  await ok(['create', 'ex', '--network', 'loopback', '-m', '64m', '--pids-limit', '20', '--', '/bin/sleep', '600']);
  return JSON.parse(await ok(['boot', 'ex', '--json'])) as ZoneInfo;
}

/** Host pids of `/bin/sh -c SCRIPT marker` (not the CLI, whose argv ends the same). */
function hostShellsWithLastArg(marker: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      if (argv[0] === '/bin/sh' && argv.at(-2) === marker) out.push(Number(p));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

// Run inside the zone as the zone's root (the exec'd victim's own uid):
// finds the victim, shows what its fds are, takes its stdin and stdout, and
// leaves a process behind that uses them once the victim's exec is over.
const ATTACKER = `
import os, sys, time, json
victim = None
for _ in range(200):
    for p in os.listdir('/proc'):
        if not p.isdigit() or int(p) == os.getpid():
            continue
        try:
            argv = open('/proc/%s/cmdline' % p, 'rb').read().split(b'\\0')
        except OSError:
            continue
        if argv[-2:] == [b'victim-marker', b'']:
            victim = p
    if victim:
        break
    time.sleep(0.05)
links = {fd: os.readlink('/proc/%s/fd/%s' % (victim, fd)) for fd in os.listdir('/proc/%s/fd' % victim)}
def take(fd, flags):
    try:
        return os.open('/proc/%s/fd/%d' % (victim, fd), flags | os.O_NONBLOCK)
    except OSError as e:
        return -e.errno
rin, wout = take(0, os.O_RDONLY), take(1, os.O_WRONLY)
print(json.dumps({'links': links, 'stdin': rin, 'stdout': wout}), flush=True)
if os.fork() == 0:
    os.setsid()
    for fd in (0, 1, 2):
        os.close(fd)
    while os.path.exists('/proc/%s' % victim):
        time.sleep(0.05)
    time.sleep(1.5)
    try:
        os.write(wout, b'INJECTED\\n')
    except OSError:
        pass
    stolen = b''
    deadline = time.time() + 3
    while rin >= 0 and time.time() < deadline:
        try:
            d = os.read(rin, 100)
        except BlockingIOError:
            time.sleep(0.05)
            continue
        if not d:
            break
        stolen += d
    open('/tmp/stolen', 'wb').write(stolen + b'<end>')
    os._exit(0)
`;

describe('exec: no host fd in the zone', () => {
  it("a zone process that takes over an exec'd process's fds gets pipes, not the caller's input or output", async () => {
    await bootCapped();
    const dir = mkdtempSync('/tmp/lxz77-');
    dirs.push(dir);
    // The caller's "terminal": a FIFO the test keeps open (as a terminal
    // outlives the exec), and a host file for the caller's output.
    execFileSync('mkfifo', [join(dir, 'tty')]);
    const tty = openSync(join(dir, 'tty'), constants.O_RDWR | constants.O_NONBLOCK);
    const outFile = join(dir, 'out');
    const out = openSync(outFile, 'w');
    chmodSync(outFile, 0o666); // as writable as a terminal would be to its owner's processes
    const victim = spawn(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'test/support/cli-entry.ts'), 'exec', '-i', 'ex', '--', '/bin/sh', '-c', 'read line; echo "victim read $line"', 'victim-marker'],
      { cwd: repoRoot, stdio: [tty, out, 'pipe'] },
    );
    const victimEnd = new Promise<number | null>((r) => victim.on('exit', (code) => r(code)));
    try {
      const attack = await cli(['exec', 'ex', '--', '/usr/bin/python3', '-c', ATTACKER]);
      expect(attack.stderr).toBe('');
      const { links, stdin, stdout } = JSON.parse(attack.stdout) as { links: Record<string, string>; stdin: number; stdout: number };
      for (const fd of ['0', '1', '2']) expect(links[fd]).toMatch(/^pipe:\[\d+\]$/);
      expect(Object.values(links).join(' ')).not.toContain(dir);
      // The keeper's pipes are host root's, mode 0600: not even opened.
      expect([stdin, stdout]).toEqual([-13, -13]);

      // The exec does its work and returns; then the "terminal" gets more input.
      execFileSync('sh', ['-c', `echo first > ${join(dir, 'tty')}`]);
      expect(await victimEnd).toBe(0);
      execFileSync('sh', ['-c', `echo secret-typed-later > ${join(dir, 'tty')}`]);
      await sleep(6000); // the attacker's leftover process has tried both
      const stolen = await cli(['exec', 'ex', '--', '/bin/cat', '/tmp/stolen']);
      expect(stolen.stdout).toBe('<end>');
      expect(readFileSync(outFile, 'utf8')).toBe('victim read first\n');
      // What was typed later is still there, unread by anyone but us.
      const buf = Buffer.alloc(100);
      const n = readSync(tty, buf, 0, 100, null);
      expect(buf.subarray(0, n).toString()).toBe('secret-typed-later\n');
    } finally {
      victim.kill('SIGKILL');
      closeSync(tty);
      closeSync(out);
    }
  });
});

describe("exec: in the zone's namespaces and cgroups", () => {
  it("the exec'd process has the init's namespaces and cgroups (every hierarchy) before it runs", async () => {
    const z = await bootCapped();
    const running = cli(['exec', 'ex', '--', '/bin/sh', '-c', 'sleep 60', 'join-marker'], { timeoutMs: 120_000 });
    const [pid] = (await waitFor(() => {
      const p = hostShellsWithLastArg('join-marker');
      return p.length ? p : undefined;
    }, 30_000, 50)) ?? [];
    expect(pid).toBeGreaterThan(0);
    for (const ns of ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts']) {
      expect([ns, readlinkSync(`/proc/${pid}/ns/${ns}`)]).toEqual([ns, readlinkSync(`/proc/${z.pid}/ns/${ns}`)]);
    }
    // Every hierarchy: the same lines as the init's (v1: one per controller; v2: one).
    expect(readFileSync(`/proc/${pid}/cgroup`, 'utf8')).toBe(readFileSync(`/proc/${z.pid}/cgroup`, 'utf8'));
    expect(readFileSync(`/proc/${pid}/cgroup`, 'utf8')).toContain(`${env.cgroupParent}/ex`);
    // stats counts it: the init's two (reaper, sleep 600), the exec'd shell, its sleep, and the exec's own joining process.
    expect((await zoneStats('ex')).usage!.pids.current).toBeGreaterThanOrEqual(5);
    await ok(['halt', 'ex']);
    await running;
  });

  it('the memory cap holds for an exec\'d process (OOM-killed or ENOMEM, never 300 MiB)', async () => {
    await bootCapped();
    const r = await cli(['exec', 'ex', '--', '/usr/bin/python3', '-c', "b = b'x' * (300 << 20); print('allocated', len(b))"], { timeoutMs: 120_000 });
    expect(r.stdout).not.toContain('allocated');
    expect(r.code).not.toBe(0);
    const usage = (await zoneStats('ex')).usage!;
    expect(usage.memory.max).toBe(64 * MiB);
    expect(usage.memory.current).toBeLessThanOrEqual(64 * MiB);
  });

  it('the pids cap holds for an exec\'d process (forks past --pids-limit fail), and stats count them', async () => {
    await bootCapped();
    const forker = [
      'import os, sys, time',
      'n = 0',
      'for i in range(60):',
      '    try:',
      '        pid = os.fork()',
      '    except OSError:',
      '        break',
      '    if pid == 0:',
      '        time.sleep(4)',
      '        os._exit(0)',
      '    n += 1',
      "print('forked', n, flush=True)",
      'while True:',
      '    try:',
      '        os.wait()',
      '    except ChildProcessError:',
      '        break',
    ].join('\n');
    const run = cli(['exec', 'ex', '--', '/usr/bin/python3', '-c', forker], { timeoutMs: 60_000 });
    const pids = await waitFor(async () => {
      const p = (await zoneStats('ex')).usage!.pids.current;
      return p >= 15 ? p : undefined;
    }, 30_000, 200);
    expect(pids).toBeLessThanOrEqual(20);
    const r = await run;
    const forked = Number(/forked (\d+)/.exec(r.stdout)?.[1] ?? 'NaN');
    expect(forked).toBeGreaterThan(0);
    expect(forked).toBeLessThan(20);
  });
});
