// exec into zones, logs with their size cap and -f, restart policies
// (including reboot(2) from inside the zone), caps changed on a running zone
// and the zone's own /proc view, and what rootless callers are told.
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { execZone, inspectZone, updateZone, zoneStats } from '../src/zone/lifecycle/api.js';
import type { ZoneInfo } from '../src/zone/lifecycle/types.js';
import { useLifecycleEnv, waitFor } from './support/lifecycle-env.js';
import { NOBODY, runNodeAsNobody } from './support/nobody.js';
import { repoRoot } from './support/zones.js';

const dirs: string[] = [];
const env = useLifecycleEnv(82, {
  procview: true,
  afterReset: () => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  },
});
process.env.LXZONE_LOG_MAX_BYTES = String(64 * 1024);
const { cli, ok } = env;
const MiB = 1024 * 1024;

const info = async (name: string): Promise<ZoneInfo> => (await env.list()).find((z) => z.name === name)!;

describe('exec', () => {
  it("runs in the zone (its files, hostname, processes, address), with its own exit code", async () => {
    await ok(['create', 'ex', '--hostname', 'exhost', '-e', 'ZONEVAR=from-config', '--', '/bin/sh', '-c', 'echo ready > /tmp/mark; sleep 600']);
    const { ipv4 } = JSON.parse(await ok(['boot', 'ex', '--json'])) as ZoneInfo;
    await new Promise((r) => setTimeout(r, 300));
    const r = await cli(['exec', '-e', 'EXTRA=1', 'ex', '--', '/bin/sh', '-c', 'cat /tmp/mark; hostname; echo $ZONEVAR $EXTRA; ls /proc | grep -c "^[0-9]"; ip -4 -br addr show eth0; exit 7']);
    expect(r.code).toBe(7);
    const [mark, host, vars, procs, addr] = r.stdout.trim().split('\n');
    expect(mark).toBe('ready');
    expect(host).toBe('exhost');
    expect(vars).toBe('from-config 1');
    expect(Number(procs)).toBeLessThan(8);
    expect(addr).toContain(`${ipv4}/24`);
    // The API gives the same, with stdout collected.
    const api = await execZone('ex', { argv: ['/usr/bin/id', '-u'], user: '1000', stdio: 'pipe' });
    expect(api.stdout!.toString()).toBe('1000\n');
    expect((await cli(['exec', 'ex', '--', '/no/such/binary'])).code).toBe(127);
    // Options end at the zone's name, as with docker exec: -e and -n here are the command's.
    const own = await cli(['exec', 'ex', '/bin/sh', '-c', 'printf "%s %s" "$0" "$1"', '-e', '-n']);
    expect(own.stdout).toBe('-e -n');
  });

  it('into a stopped zone is refused', async () => {
    await ok(['create', 'ex', '--network', 'loopback', '--', '/bin/sleep', '600']);
    const r = await cli(['exec', 'ex', '--', '/bin/true']);
    // exec's status is the program's: lxzone's own failure is 125, never a program's 1.
    expect(r.code).toBe(125);
    expect(r.stderr).toContain('zone ex is not running; boot it first');
    const r2 = await cli(['exec', 'nosuch', '--', '/bin/true']);
    expect(r2.stderr).toContain('zone nosuch does not exist');
  });

  it("is served by the daemon's supervisor, as the zone is: the zone's kernel version, its counters", async () => {
    await ok(['create', 'ex', '--network', 'loopback', '--kernel-version', '4.19.0-ex', '--', '/bin/sleep', '600']);
    await ok(['boot', 'ex']);
    // The hand-over to the daemon happens once the binary runs (calls before it are the caller's to
    // serve and count): wait a moment before the counted calls, which the daemon then serves.
    const uname = 'import os, time; time.sleep(1.5); [os.uname() for _ in range(50)]; time.sleep(0.2); print(os.uname().release)';
    const r = await cli(['exec', 'ex', '--', '/usr/bin/python3', '-c', uname]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('4.19.0-ex\n');
    // The exec'd process's unames are counted with the zone's, by the daemon.
    // Counters reach the daemon in batches: the last ones a moment after the process ends.
    const counted = async () => (await env.inspect('ex')).syscalls?.notified.find((n) => n.abi === 'x86_64' && n.nr === 63)?.count ?? 0;
    await waitFor(async () => (await counted()) >= 51, 5_000, 50);
    expect(await counted()).toBeGreaterThanOrEqual(51);
    // No exec socket or daemon note is left once the process has ended (the daemon sees the end a moment after the caller).
    await waitFor(() => readdirSync(join(env.runtimeDir, 'exec')).length === 0, 10_000, 50);
    expect(readdirSync(join(env.runtimeDir, 'exec'))).toEqual([]);
  });

  it('reboot(2) from an exec\'d process restarts the zone; halt stops it (restart policy no)', async () => {
    await ok(['create', 'ex', '--network', 'loopback', '--', '/bin/sleep', '600']);
    const first = JSON.parse(await ok(['boot', 'ex', '--json'])) as ZoneInfo;
    // busybox reboot calls reboot(2) at once: served by whichever supervisor has the process then.
    expect((await cli(['exec', 'ex', '--', 'busybox', 'reboot', '-f'])).code).toBe(137); // ended with its zone
    await waitFor(async () => {
      const z = await info('ex');
      return z.state === 'running' && z.pid !== first.pid;
    }, 60_000, 100);
    expect((await info('ex')).lastExit).toMatchObject({ reboot: 'restart' });
    await cli(['exec', 'ex', '--', 'busybox', 'halt', '-f']);
    await waitFor(async () => (await info('ex')).state === 'stopped', 60_000, 100);
    expect((await info('ex')).lastExit).toMatchObject({ reboot: 'halt', exitCode: 0 });
  });

  it('-t gives the command a terminal', async () => {
    await ok(['create', 'ex', '--network', 'loopback', '--', '/bin/sleep', '600']);
    await ok(['boot', 'ex']);
    const r = await cli(['exec', '-t', 'ex', '--', '/bin/sh', '-c', 'tty; test -t 0 && echo interactive']);
    expect(r.code).toBe(0);
    expect(r.stdout.replace(/\r/g, '')).toMatch(/^\/dev\/pts\/\d+\ninteractive\n$/);
  });
});

describe('logs', () => {
  it('keeps each stream under its cap (one rotated copy) and -f follows until the zone stops', async () => {
    // ~1.2 MiB of numbered lines on stdout in bursts, far over the 64 KiB cap.
    const script = 'i=0; while [ $i -lt 60 ]; do seq -f "line %06g" $((i*2000)) $((i*2000+1999)); i=$((i+1)); sleep 0.1; done; echo done >&2; sleep 1';
    await ok(['create', 'chatty', '--network', 'loopback', '--', '/bin/sh', '-c', script]);
    await ok(['boot', 'chatty']);
    const follow = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/support/cli-entry.ts'), 'logs', '-f', 'chatty'], { cwd: repoRoot });
    const followEnd = new Promise((r) => follow.on('exit', r));
    let followed = '';
    follow.stdout.on('data', (d) => (followed += d));
    const files = (await inspectZone('chatty')).paths.logs;
    let maxSeen = 0;
    await waitFor(() => {
      // The keeper may rotate the file away between any two calls: a missing one is skipped.
      const size = statSync(files.stdout, { throwIfNoEntry: false })?.size ?? 0;
      maxSeen = Math.max(maxSeen, size);
      return existsSync(files.stderr) && readFileSync(files.stderr, 'utf8').includes('done');
    }, 90_000, 50);
    // The cap holds, give or take what arrives between two checks.
    expect(maxSeen).toBeLessThan(64 * 1024 + 512 * 1024);
    expect(existsSync(`${files.stdout}.1`)).toBe(true);
    expect(statSync(`${files.stdout}.1`).size).toBeLessThan(64 * 1024 + 512 * 1024);
    // The newest lines are there; the oldest were rotated away.
    const tail = await cli(['logs', '--tail', '2', 'chatty']);
    expect(tail.stdout).toBe('line 119998\nline 119999\n');
    expect(tail.stderr).toBe('done\n');
    const all = await cli(['logs', 'chatty']);
    expect(all.stdout.startsWith('line 000000\n')).toBe(false);
    // -f saw the lines as they came and ended with the zone.
    expect(await followEnd).toBe(0);
    expect(followed).toContain('line 119999\n');
    // Across rotations, what -f printed is in order and never repeated.
    const numbers = followed.trim().split('\n').map((l) => Number(l.slice(5)));
    expect(numbers.every((n, i) => i === 0 || n > numbers[i - 1]!)).toBe(true);
  });
});

describe('logs of lines longer than a file', () => {
  it('prints whole lines only: the end of a line whose start was rotated away is dropped', async () => {
    // The first line (40000 bytes) is longer than two files' share (16 KiB
    // each), so the file its end is in and the one before it both begin
    // mid-line, however the keeper's reads cut it; the last line is short.
    const script = 'printf "L1:"; head -c 39996 /dev/zero | tr "\\0" x; echo; echo L2:end';
    await ok(['create', 'longlines', '--network', 'loopback', '--', '/bin/sh', '-c', script]);
    await ok(['boot', 'longlines']);
    await waitFor(async () => (await info('longlines')).state === 'stopped', 60_000, 100);
    const files = (await inspectZone('longlines')).paths.logs;
    // The case is reached: the keeper says the copy begins mid-line.
    expect(readFileSync(`${files.stdout}.gen`, 'utf8')).toMatch(/^\d+ \S*m/);
    const all = await cli(['logs', 'longlines']);
    expect(all.code).toBe(0);
    expect(all.stdout).toBe('L2:end\n');
  });
});

describe('restart policies', () => {
  it('on-failure:2 restarts a failing zone twice, then leaves it stopped', async () => {
    const dir = mkdtempSync('/tmp/lxz82-count-');
    chmodSync(dir, 0o777);
    dirs.push(dir);
    await ok(['create', 'flaky', '--network', 'loopback', '--restart', 'on-failure:2', '-v', `${dir}:/mnt`, '--', '/bin/sh', '-c', 'echo x >> /mnt/boots; exit 3']);
    await ok(['boot', 'flaky']);
    const boots = () => (existsSync(join(dir, 'boots')) ? readFileSync(join(dir, 'boots'), 'utf8').split('\n').filter(Boolean).length : 0);
    await waitFor(async () => boots() === 3 && (await info('flaky')).state === 'stopped', 60_000, 200);
    await new Promise((r) => setTimeout(r, 1500));
    expect(boots()).toBe(3);
    const z = await info('flaky');
    expect(z.state).toBe('stopped');
    expect(z.lastExit).toMatchObject({ exitCode: 3, haltedByUs: false });
  });

  it('reboot(2) RESTART from inside boots the zone again; HALT stops it (restart policy no)', async () => {
    const dir = mkdtempSync('/tmp/lxz82-reboot-');
    chmodSync(dir, 0o777);
    dirs.push(dir);
    const script = 'echo boot >> /mnt/boots; if [ -e /mnt/booted ]; then sleep 1; busybox halt -f; else touch /mnt/booted; busybox reboot -f; fi; sleep 30';
    await ok(['create', 'rb', '--network', 'loopback', '-v', `${dir}:/mnt`, '--', '/bin/sh', '-c', script]);
    const first = JSON.parse(await ok(['boot', 'rb', '--json'])) as ZoneInfo;
    await waitFor(() => existsSync(join(dir, 'boots')) && readFileSync(join(dir, 'boots'), 'utf8') === 'boot\nboot\n', 60_000);
    await waitFor(async () => (await info('rb')).state === 'stopped', 60_000, 200);
    const z = await info('rb');
    expect(readFileSync(join(dir, 'boots'), 'utf8')).toBe('boot\nboot\n');
    expect(z.state).toBe('stopped');
    expect(z.lastExit).toMatchObject({ reboot: 'halt', exitCode: 0 });
    expect(first.pid).toBeGreaterThan(0);
    expect(readFileSync(join(env.stateDir, 'daemon.log'), 'utf8')).toMatch(/zone rb: restarting in 0 ms \(reboot\(2\) RESTART/);
  });
});

describe('caps and the zone view', () => {
  it('update changes the caps of a running zone; stats and /proc/meminfo follow', async () => {
    await ok(['create', 'capped', '--memory', '96m', '--pids-limit', '64', '--cpus', '0.5', '--', '/bin/sh', '-c', 'sleep 600']);
    await ok(['boot', 'capped']);
    const meminfo = async () => (await execZone('capped', { argv: ['/bin/sh', '-c', 'head -1 /proc/meminfo; free -b | sed -n 2p'], stdio: 'pipe' })).stdout!.toString();
    const before = await meminfo();
    expect(before).toMatch(new RegExp(`^MemTotal:\\s+${(96 * MiB) / 1024} kB`));
    expect(before.split('\n')[1]!.split(/\s+/)[1]).toBe(String(96 * MiB));

    const s = await zoneStats('capped');
    expect(s.usage?.memory.max).toBe(96 * MiB);
    expect(s.usage?.pids.max).toBe(64);
    expect(s.usage?.cpu.cpus).toBe(0.5);
    expect(s.usage!.pids.current).toBeGreaterThanOrEqual(2);

    const d = await updateZone('capped', { memoryBytes: 128 * MiB, pidsMax: null });
    expect(d.config?.resources).toEqual({ memoryBytes: 128 * MiB, cpus: 0.5 });
    const s2 = await zoneStats('capped');
    expect(s2.usage?.memory.max).toBe(128 * MiB);
    expect(s2.usage?.pids.max).toBe(null);
    expect(await meminfo()).toMatch(new RegExp(`^MemTotal:\\s+${(128 * MiB) / 1024} kB`));
    // sysinfo(2) (the supervisor's answer) follows too.
    const py = 'import ctypes\nclass S(ctypes.Structure):\n _fields_=[("u",ctypes.c_long),("l",ctypes.c_ulong*3),("t",ctypes.c_ulong),("f",ctypes.c_ulong),("s",ctypes.c_ulong),("b",ctypes.c_ulong),("ts",ctypes.c_ulong),("fs",ctypes.c_ulong),("p",ctypes.c_ushort),("pad",ctypes.c_ushort),("th",ctypes.c_ulong),("fh",ctypes.c_ulong),("m",ctypes.c_uint)]\ns=S();ctypes.CDLL(None).sysinfo(ctypes.byref(s));print(s.t*s.m)';
    const si = await execZone('capped', { argv: ['/usr/bin/python3', '-c', py], stdio: 'pipe' });
    expect(si.stdout!.toString().trim()).toBe(String(128 * MiB));
    // `lxzone update` (the CLI works on the cgroup itself) tells the daemon too.
    await ok(['update', 'capped', '--memory', '160m']);
    const si2 = await execZone('capped', { argv: ['/usr/bin/python3', '-c', py], stdio: 'pipe' });
    expect(si2.stdout!.toString().trim()).toBe(String(160 * MiB));
    expect((await zoneStats('capped')).usage?.memory.max).toBe(160 * MiB);
    // Kept for the next boot.
    await ok(['reboot', 'capped']);
    expect((await zoneStats('capped')).usage?.memory.max).toBe(160 * MiB);
  });
  it("update through the daemon takes lxzone update's path: a new memory cap keeps the swap allowance", async () => {
    await ok(['create', 'swapped', '--network', 'none', '--memory', '64m', '--memory-swap', '16m', '--', '/bin/sleep', '600']);
    await ok(['boot', 'swapped']);
    expect((await zoneStats('swapped')).usage?.memory.swapMax).toBe(16 * MiB);
    // The daemon's own update used to write the memory cap alone, which made the cap hard (swap 0).
    const d = await updateZone('swapped', { memoryBytes: 96 * MiB });
    expect(d.config?.resources).toEqual({ memoryBytes: 96 * MiB, swapBytes: 16 * MiB });
    const u = (await zoneStats('swapped')).usage!;
    expect(u.memory.max).toBe(96 * MiB);
    expect(u.memory.swapMax).toBe(16 * MiB);
    await expect(updateZone('swapped', {})).rejects.toThrow(/nothing to update/);
  });
});

describe('rootless callers', () => {
  it('are told that bridge networking and cgroup caps need root, and run zones through a daemon of their own', async () => {
    const home = mkdtempSync('/tmp/lxz82-home-');
    dirs.push(home);
    // nobody's own home, as a user's is (a world-writable one is refused as lxzone's state's parent).
    chownSync(home, NOBODY, NOBODY);
    const asNobody = (args: string[]) =>
      runNodeAsNobody((root) => [join(root, 'test/support/cli-entry.ts'), ...args], {
        cwd: '/tmp',
        env: { PATH: process.env.PATH, HOME: home, XDG_RUNTIME_DIR: home },
      });
    const net = await asNobody(['create', 'mine', '--network', 'zone', '--', '/bin/true']);
    expect(net.code).toBe(1);
    expect(net.stderr).toContain('network mode "zone" needs root (a host bridge and veth pairs); rootless zones');
    const caps = await asNobody(['create', 'mine', '--memory', '64m', '--', '/bin/true']);
    expect(caps.code).toBe(1);
    expect(caps.stderr).toContain('resource caps need cgroups, which lxzone only manages as root');
    // A rootless zone without them is stored under the user's own XDG directory, and its own daemon runs it.
    const made = await asNobody(['create', 'mine', '--', '/bin/sh', '-c', 'id -u; echo up; sleep 600']);
    expect(made.stderr).toBe('');
    expect(made.code).toBe(0);
    expect(existsSync(join(home, '.local/share/lxzone/zones/mine/config.json'))).toBe(true);
    try {
      const booted = await asNobody(['boot', 'mine', '--json']);
      expect(booted.stderr).toBe('');
      const z = JSON.parse(booted.stdout) as ZoneInfo;
      expect(z).toMatchObject({ state: 'running', network: 'loopback' });
      expect(z.ipv4).toBeUndefined();
      // The zone and its daemon are the user's, not root's.
      expect(statSync(`/proc/${z.pid}`).uid).toBe(65534);
      expect(statSync(join(home, 'lxzone', 'daemon.sock')).uid).toBe(65534);
      await waitFor(async () => (await asNobody(['logs', 'mine'])).stdout === '0\nup\n', 60_000, 200);
      expect((await asNobody(['logs', 'mine'])).stdout).toBe('0\nup\n');
      const halted = await asNobody(['halt', 'mine', '--json']);
      expect(JSON.parse(halted.stdout)).toMatchObject({ state: 'stopped' });
      expect((await asNobody(['destroy', 'mine'])).code).toBe(0);
    } finally {
      await asNobody(['daemon', 'stop', '--halt-zones']);
    }
  });
});
