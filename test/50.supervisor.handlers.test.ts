// The supervisor's handlers in real zones (issue 5): uname, sysinfo, syslog,
// reboot, unsupported numbers, trace, strict SIGSYS and a TypeScript handler.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runZone, startZone } from '../src/zone/run.js';
import { expectNothingLeft, hostSnapshot, runCli, type HostSnapshot } from './support/zones.js';

let before: HostSnapshot;
beforeEach(() => {
  before = hostSnapshot();
});
afterEach(async () => {
  await expectNothingLeft(before);
});

const out = (r: { stdout?: Buffer }) => (r.stdout ?? Buffer.alloc(0)).toString();
const py = (code: string) => ['/usr/bin/python3', '-c', code];
const SYSCALL = 'import ctypes; libc = ctypes.CDLL(None, use_errno=True); libc.syscall.restype = ctypes.c_long';

describe('sysinfo', () => {
  it("reports the zone's uptime, processes and memory cap", async () => {
    const r = await runZone({
      argv: py(`import ctypes
class S(ctypes.Structure):
    _fields_ = [("uptime", ctypes.c_long), ("loads", ctypes.c_ulong * 3), ("totalram", ctypes.c_ulong), ("freeram", ctypes.c_ulong),
                ("sharedram", ctypes.c_ulong), ("bufferram", ctypes.c_ulong), ("totalswap", ctypes.c_ulong), ("freeswap", ctypes.c_ulong),
                ("procs", ctypes.c_ushort), ("pad", ctypes.c_ushort), ("totalhigh", ctypes.c_ulong), ("freehigh", ctypes.c_ulong), ("mem_unit", ctypes.c_uint)]
s = S(); libc = ctypes.CDLL(None); r = libc.sysinfo(ctypes.byref(s))
mt = [l for l in open('/proc/meminfo') if l.startswith('MemTotal:')][0].split()[1]
print(r, s.uptime, s.procs, s.totalram * s.mem_unit, int(mt) * 1024)`),
      // A real cgroup cap: the zone's /proc/meminfo (LXCFS) reads it from the cgroup, sysinfo must agree.
      limits: { memory: 256 * 1024 * 1024 },
      stdio: 'pipe',
    });
    const [ret, uptime, procs, total, cgroupTotal] = out(r).trim().split(' ').map(Number);
    expect(cgroupTotal).toBe(256 * 1024 * 1024);
    expect(total).toBe(cgroupTotal);
    expect(ret).toBe(0);
    expect(uptime).toBeLessThan(30); // the host has been up far longer than this zone
    expect(procs).toBeGreaterThanOrEqual(2);
    expect(procs).toBeLessThan(5);
    expect(total).toBe(256 * 1024 * 1024);
    const hostUptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    expect(hostUptime).toBeGreaterThan(uptime!);
  });
});

describe('syslog', () => {
  it("never shows the host's kernel log", async () => {
    const host = execFileSync('dmesg').toString();
    expect(host.length).toBeGreaterThan(0);
    const r = await runZone({ argv: ['/bin/sh', '-c', 'dmesg; echo "rc=$?"'], stdio: 'pipe' });
    expect(out(r).trim()).toBe('rc=0');
  });

  it('has a buffer of a size, empty: SIZE_BUFFER is Linux\'s default, SIZE_UNREAD 0 (stress-ng klog skipped on 0)', async () => {
    const r = await runZone({ argv: py(`${SYSCALL}; print(libc.syscall(103, 10, None, 0), libc.syscall(103, 9, None, 0))`), stdio: 'pipe' });
    expect(out(r).trim()).toBe(`${1 << 17} 0`);
  });
});

describe('reboot', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lxzone-reboot-'));
    chmodSync(dir, 0o777);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('RESTART restarts the zone, HALT stops it; the host stays up', async () => {
    // First boot: mark and reboot. Second boot: see the mark and halt.
    const script = 'if [ -e /mnt/booted ]; then echo second; busybox halt -f; else touch /mnt/booted; echo first; busybox reboot -f; fi; sleep 5; echo not-reached';
    const events: string[] = [];
    const r = await runZone({
      argv: ['/bin/sh', '-c', script],
      binds: [{ host: dir, zone: '/mnt', readOnly: false }],
      stdio: 'pipe',
      onEvent: (e) => e.type === 'reboot' && events.push(e.action),
    }).catch((e) => e);
    // runZone runs a restarted zone again: the first boot restarted, the second halted.
    expect(events).toEqual(['restart', 'halt']);
    expect(out(r)).toBe('second\n');
    expect(r.reboot).toBe('halt');
    expect(r.exitCode).toBe(0);
  });

  // reboot(RESTART) in python: "-1 1" is EPERM; a granted one never returns.
  const REBOOT = `${SYSCALL}; r = libc.syscall(169, 0xfee1dead, 672274793, 0x1234567, 0); print(r, ctypes.get_errno())`;

  it('refuses reboot to a non-root zone user with EPERM', async () => {
    const r = await runZone({ argv: py(REBOOT), uid: 1000, gid: 1000, stdio: 'pipe' });
    expect(out(r).trim()).toBe('-1 1');
  });

  it('wants CAP_SYS_BOOT in the zone, as Linux does: a root that dropped it gets EPERM', async () => {
    const events: string[] = [];
    const r = await runZone({
      argv: ['/usr/bin/setpriv', '--bounding-set', '-sys_boot', '--inh-caps', '-sys_boot', '--', ...py(REBOOT)],
      stdio: 'pipe',
      onEvent: (e) => e.type === 'reboot' && events.push('reboot'),
    });
    expect(r.stderr?.toString()).toBe('');
    expect(out(r).trim()).toBe('-1 1');
    expect(events).toEqual([]);
  });

  it('refuses a root of a user namespace nested in the zone (all capabilities, but not over the zone)', async () => {
    const r = await runZone({ argv: ['/usr/bin/unshare', '--user', '--map-root-user', '--', ...py(REBOOT)], allowNesting: true, stdio: 'pipe' });
    expect(r.stderr?.toString()).toBe('');
    expect(out(r).trim()).toBe('-1 1');
  });
});

describe('unsupported syscalls', () => {
  it('get ENOSYS and one event per number', async () => {
    const r = await runZone({ argv: py(`${SYSCALL}; print([ (libc.syscall(1000), ctypes.get_errno()) for _ in range(3)])`), stdio: 'pipe' });
    expect(out(r).trim()).toBe('[(-1, 38), (-1, 38), (-1, 38)]');
    expect(r.unsupported).toEqual([{ abi: 'x86_64', nr: 1000 }]);
    expect(r.stats.unsupported).toEqual([{ abi: 'x86_64', nr: 1000, count: 3 }]);
  });

  it('kill the caller with SIGSYS in the strict profile', async () => {
    const r = await runZone({ argv: py(`${SYSCALL}; libc.syscall(1000); print("survived")`), profile: 'strict', stdio: 'pipe' });
    expect(out(r)).not.toContain('survived');
    expect(r.exitCode).toBe(128 + 31);
  });
});

describe('trace', () => {
  it('records the traced calls with decoded strings, then lets them run', async () => {
    const lines: string[] = [];
    const r = await runZone({
      argv: ['/bin/cat', '/etc/hostname'],
      extraRules: [{ names: ['openat'], disposition: 'trace', note: 'test' }],
      onTrace: (line) => lines.push(line),
      stdio: 'pipe',
    });
    expect(r.exitCode).toBe(0);
    expect(out(r)).toBe(readFileSync('/etc/hostname', 'utf8'));
    expect(lines.some((l) => /openat\(-100, "\/etc\/hostname", .*\) = \?$/.test(l))).toBe(true);
  });
});

describe('a handler written in TypeScript', () => {
  it('answers the syscall it was registered for', async () => {
    const seen: number[] = [];
    const r = await runZone({
      argv: py('import os; print(os.getpriority(os.PRIO_PROCESS, 0))'),
      extraRules: [{ names: ['getpriority'], disposition: 'emulate:js', reason: 'no-equivalent', note: 'test handler' }],
      jsHandlers: { getpriority: (call) => { seen.push(call.nr); return 7; } },
      stdio: 'pipe',
    });
    // The raw syscall returns 20 - nice; glibc turns 7 into a nice value of 13.
    expect(out(r).trim()).toBe('13');
    expect(seen).toEqual([140]);
  });
});

async function waitUntil(ok: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  if (!ok()) throw new Error('timed out');
}

describe('threads', () => {
  it('serves zones from one thread per CPU (at most 4), each zone on one, all answered', async () => {
    const { supervisor } = await import('../src/zone/supervisor.js');
    // The CPUs this process may run on (its affinity), as the supervisor counts them.
    const allowed = /^Cpus_allowed_list:\s*(.+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]!;
    const cpus = allowed.split(',').reduce((n, r) => {
      const [a, b] = r.split('-').map(Number);
      return n + (b === undefined ? 1 : b - a! + 1);
    }, 0);
    const zones = await Promise.all(
      [0, 1, 2, 3, 4].map((i) => runZone({ argv: ['/bin/sh', '-c', 'uname -n; uname -n'], hostname: `t${i}`, stdio: 'pipe' })),
    );
    expect(supervisor().raw.threadCount()).toBe(Math.min(Math.max(cpus, 1), 4));
    expect(zones.map((r) => out(r))).toEqual([0, 1, 2, 3, 4].map((i) => `t${i}\nt${i}\n`));
    expect(zones.every((r) => r.stats.notified.find((n) => n.nr === 63)?.count === 2)).toBe(true);
  });

  it('refuses a bad LXZONE_SUPERVISOR_THREADS, naming it', async () => {
    process.env.LXZONE_SUPERVISOR_THREADS = '9';
    const running = runCli(['run', '--', '/bin/true']); // the child takes the environment at spawn
    delete process.env.LXZONE_SUPERVISOR_THREADS;
    const r = await running;
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('LXZONE_SUPERVISOR_THREADS=9: must be an integer 1..4');
  });
});

describe('fail closed and re-attach', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lxzone-reattach-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function startDaemonLike(timeout: number, command: string) {
    const { spawn } = await import('node:child_process');
    const socket = join(dir, 'keeper.sock');
    const outFile = join(dir, 'out');
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'support', 'detached-zone.ts'), socket, outFile, String(timeout), '/bin/sh', '-c', command], { stdio: ['ignore', 'pipe', 'inherit'] });
    const info = await new Promise<{ keeperPid: number; initPid: number }>((resolve, reject) => {
      let buf = '';
      child.stdout!.on('data', (d) => {
        buf += d;
        if (buf.includes('\n')) resolve(JSON.parse(buf));
      });
      child.on('exit', (code) => reject(new Error(`daemon stand-in exited ${code}`)));
    });
    return { child, socket, outFile, ...info };
  }

  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  it('a killed supervisor\'s zone is served by its keeper meanwhile (same answers), then by the new supervisor', async () => {
    const d = await startDaemonLike(1, 'sleep 1.5; uname -r; while [ ! -e /tmp/go ]; do sleep 0.05; done; uname -r; sleep 30');
    d.child.kill('SIGKILL');
    // Past the re-attach timeout (1 s): the keeper answered uname itself,
    // with the zone's release, and the zone runs on.
    await new Promise((r) => setTimeout(r, 3000));
    expect(alive(d.keeperPid)).toBe(true);
    expect(readFileSync(d.outFile, 'utf8')).toBe('7.7.7-reattached\n');
    const { supervisor } = await import('../src/zone/supervisor.js');
    const { compilePolicy } = await import('../src/policy/compile.js');
    const policy = compilePolicy({ profile: 'default', abis: ['x86_64', 'i386'] });
    const sup = supervisor();
    let ready = false;
    const zone = sup.reattach(d.socket, { dispatch: policy.dispatch, hostname: 'back', kernelVersion: '8.8.8-new' }, (e) => (ready ||= e.type === 'ready'));
    await waitUntil(() => ready); // the keeper has handed the listener over
    writeFileSync(`/proc/${d.initPid}/root/tmp/go`, '');
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && !readFileSync(d.outFile, 'utf8').includes('8.8.8')) await new Promise((r) => setTimeout(r, 50));
    expect(readFileSync(d.outFile, 'utf8')).toBe('7.7.7-reattached\n8.8.8-new\n');
    sup.raw.send(zone, 101, 9); // SIGKILL the zone's init through its keeper
    while (alive(d.keeperPid)) await new Promise((r) => setTimeout(r, 50));
    sup.detach(zone);
  });

  it('hands a zone over: the next supervisor, connected while the first still served, answers; takeBack serves it here again', async () => {
    const { supervisor } = await import('../src/zone/supervisor.js');
    const { compilePolicy } = await import('../src/policy/compile.js');
    const policy = compilePolicy({ profile: 'default', abis: ['x86_64', 'i386'] });
    chmodSync(dir, 0o777);
    const socket = join(dir, 'keeper.sock');
    let ran!: () => void;
    const running = new Promise<void>((r) => (ran = r));
    const script = 'sleep 0.5; uname -r; while [ ! -e /mnt/go ]; do sleep 0.05; done; uname -r';
    const zone = startZone({
      argv: ['/bin/sh', '-c', script],
      kernelVersion: '1.1.1-first',
      binds: [{ host: dir, zone: '/mnt', readOnly: false }],
      reattachSocket: socket,
      reattachTimeoutSeconds: 20,
      stdio: 'pipe',
      onEvent: (e) => e.type === 'started' && ran(),
    });
    await running;
    // Connected while this process's first entry still serves: it waits its turn in the keeper.
    const sup = supervisor();
    const next = sup.reattach(socket, { dispatch: policy.dispatch, hostname: 'next', kernelVersion: '2.2.2-next' }, () => undefined);
    zone.handOff();
    await waitUntil(() => (sup.raw.counters(next)?.notified ?? []).some(([, nr]) => nr === 63));
    sup.detach(next); // it leaves; we take the zone back
    await new Promise((r) => setTimeout(r, 200));
    zone.takeBack();
    writeFileSync(join(dir, 'go'), '');
    const r = await zone.wait();
    expect(out(r)).toBe('2.2.2-next\n1.1.1-first\n');
    expect(r.exitCode).toBe(0);
    expect(r.stats.notified.find((n) => n.nr === 63)?.count).toBe(1); // its own answers only: the one after takeBack
  });

  it('a zone whose supervisor never comes back is never stopped: its keeper answers its calls', async () => {
    const d = await startDaemonLike(1, 'while true; do uname -r; sleep 0.2; done');
    d.child.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 2500)); // past the 1 s re-attach timeout
    const lines = () => readFileSync(d.outFile, 'utf8').split('\n').filter(Boolean);
    const before = lines().length;
    await waitUntil(() => lines().length >= before + 3);
    expect(alive(d.keeperPid)).toBe(true);
    expect(alive(d.initPid)).toBe(true);
    expect(new Set(lines())).toEqual(new Set(['7.7.7-reattached']));
    process.kill(d.keeperPid, 'SIGKILL'); // the zone dies with its keeper
    while (alive(d.initPid)) await new Promise((r) => setTimeout(r, 50));
  });
});

it('starting a zone from TypeScript gives its init pid', async () => {
  const zone = startZone({ argv: ['/bin/true'], stdio: 'pipe' });
  expect(await zone.initPid).toBeGreaterThan(1);
  expect((await zone.wait()).exitCode).toBe(0);
});
