// Escapes (issue 10, parts 1 and 3): every technique in fixtures/escapes,
// run in a zone under the default profile, must be contained with the errno
// the manifest documents; the manifest's errnos must be the profile's own
// (programs fall back on ENOSYS vs EPERM). Natively the same fixtures must be
// able to tell a way out from a refusal, and their dangerous attempts must
// refuse to run outside a zone. The fuzzer runs in a zone for a bounded time:
// the supervisor (in this process) survives, answers, and leaks nothing.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { hostname as hostHostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveProfile } from '../src/policy/index.js';
import { createZoneCgroup } from '../src/zone/cgroups/index.js';
import { execInZone, runZone, startZone, type RunOptions, type RunResult } from '../src/zone/run.js';
import { expectNothingLeft, hostSnapshot, repoRoot, type HostSnapshot } from './support/zones.js';

interface Expect {
  errno: string | null | (string | null)[];
  by: 'filter' | 'supervisor' | 'kernel' | 'namespace' | 'mount' | 'idmap' | 'absent' | 'control' | 'runner' | 'limits';
  syscall?: string;
  abi?: 'x86_64' | 'i386' | 'x32';
  pending?: boolean;
  note?: string;
}
interface Run {
  program?: string;
  args?: string[];
  technique: string;
  limits?: { pids?: number; memory?: number };
  attempts: Record<string, Expect>;
  result?: { reboot?: 'halt' | 'restart' };
}
interface Manifest {
  profile: string;
  runs: Record<string, Run>;
  fuzz: { program: string; args: string[] };
  /** Programs in fixtures/escapes that another test runs, each with where and why. */
  elsewhere?: Record<string, string>;
}
interface Line {
  escape: string;
  contained: boolean;
  ret: number;
  errno: string | null;
  skipped?: string;
  pending?: boolean;
  detail: string;
}

const escapesDir = join(repoRoot, 'fixtures', 'escapes');
const binDir = join(repoRoot, 'fixtures', 'bin', 'escapes');
// The fixtures as zones see them: bound read-only into the zone's own /tmp
// (the checkout may itself live under the host's /tmp, which zones never see).
const zoneBinDir = '/tmp/lxzone-escapes';
const fixtureBinds = [{ host: binDir, zone: zoneBinDir, readOnly: true }];
const manifest = JSON.parse(readFileSync(join(escapesDir, 'manifest.json'), 'utf8')) as Manifest;
const programOf = (name: string, run: Run) => run.program ?? name;
const isRoot = process.getuid?.() === 0;
const hostName = hostHostname();

function parseLines(out: string): Line[] {
  return out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      try {
        return JSON.parse(l) as Line;
      } catch {
        throw new Error(`not a JSON line: ${l}`);
      }
    });
}

/** Host objects the escapes aim at, all ours: a process (harmless to
 *  signal-0 or seize), an abstract and two path unix sockets (one in a
 *  directory only root may enter, one world-connectable, both under /var/tmp,
 *  which a zone sees), a SysV segment. Every program gets them all. */
let target: ChildProcess;
const servers: Server[] = [];
const dirs: string[] = [];
let shmId = '';
let hostKey = '';
const KEY_PY = (call: string) => `import ctypes; libc = ctypes.CDLL(None); libc.syscall.restype = ctypes.c_long; print(${call})`;
let hostArgs: string[] = [];

function listen(path: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer((c) => c.destroy());
    s.once('error', reject);
    s.listen(path, () => resolve(s));
  });
}

beforeAll(async () => {
  const sources = readdirSync(escapesDir).filter((f) => f.endsWith('.c'));
  const targets = sources.map((f) => `bin/escapes/${f.slice(0, -2)}`);
  execFileSync('make', ['-s', '-C', join(repoRoot, 'fixtures'), ...targets], { stdio: 'pipe' });
  target = spawn('sleep', ['600'], { stdio: 'ignore' });
  const abstract = `lxzone-escape-${process.pid}`;
  const priv = mkdtempSync('/var/tmp/lxzone-escape-private-');
  const world = mkdtempSync('/var/tmp/lxzone-escape-world-');
  dirs.push(priv, world);
  chmodSync(world, 0o755);
  servers.push(await listen(`\0${abstract}`), await listen(join(priv, 'sock')), await listen(join(world, 'sock')));
  chmodSync(join(world, 'sock'), 0o777);
  shmId = /(\d+)\s*$/.exec(execFileSync('ipcmk', ['-M', '4096']).toString())![1]!;
  // A key of host root's, in root's user keyring: readable by its owner and
  // possessors only (add_key's default permissions).
  hostKey = execFileSync('/usr/bin/python3', ['-c', KEY_PY('libc.syscall(248, b"user", b"lxzone-escape-host-key", b"host secret", 11, -4)')]).toString().trim();
  hostArgs = [
    `--host-pid=${target.pid}`,
    `--host-abstract=${abstract}`,
    `--host-shm-id=${shmId}`,
    `--host-key=${hostKey}`,
    `--host-private-socket=${join(priv, 'sock')}`,
    `--host-world-socket=${join(world, 'sock')}`,
  ];
});
afterAll(() => {
  target?.kill('SIGKILL');
  for (const s of servers) s.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  if (shmId) execFileSync('ipcrm', ['-m', shmId]);
  if (hostKey) execFileSync('/usr/bin/python3', ['-c', KEY_PY(`libc.syscall(250, 21, ${Number(hostKey)})`)]); // KEYCTL_INVALIDATE
});

function native(program: string, args: string[] = []): { code: number; lines: Line[] } {
  try {
    const out = execFileSync(join(binDir, program), args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
    return { code: 0, lines: parseLines(out.toString()) };
  } catch (e) {
    const err = e as { status: number | null; stdout: Buffer; stderr: Buffer };
    if (err.status === null) throw e;
    return { code: err.status, lines: parseLines(err.stdout.toString()) };
  }
}

/** Whether this kernel serves int 0x80 at all: with IA32 emulation off (or
 * disabled at boot, as in confidential guests) the instruction faults before
 * any syscall entry, so there is no i386 table to dodge through and the int80
 * fixture reports every attempt skipped, saying why. */
const int80Served = (): boolean => !native('int80').lines.every((l) => l.skipped && /int 0x80 is not served/.test(l.skipped));

describe('the manifest', () => {
  it('covers every escape program, and names only programs that exist', () => {
    const sources = readdirSync(escapesDir)
      .filter((f) => f.endsWith('.c'))
      .map((f) => f.slice(0, -2));
    const named = new Set([
      ...Object.entries(manifest.runs).map(([n, r]) => programOf(n, r)),
      manifest.fuzz.program,
      ...Object.keys(manifest.elsewhere ?? {}),
    ]);
    expect([...named].sort()).toEqual([...sources].sort());
  });

  // Handlers that pass on to the kernel (CONTINUE) every call they do not serve.
  const CONTINUING = new Set(['emulate:mount', 'emulate:umount']);
  it("documents the default profile's own errnos for what the filter refuses, and lets through what it says the kernel refuses", () => {
    const profiles = { x86_64: resolveProfile(manifest.profile, 'x86_64'), i386: resolveProfile(manifest.profile, 'i386') };
    const problems: string[] = [];
    for (const [name, run] of Object.entries(manifest.runs)) {
      for (const [attempt, exp] of Object.entries(run.attempts)) {
        if (!exp.syscall || exp.abi === 'x32') continue;
        const where = `${name}.${attempt} (${exp.syscall}, ${exp.abi ?? 'x86_64'})`;
        const entry = profiles[exp.abi ?? 'x86_64'].syscalls.find((s) => s.name === exp.syscall);
        if (!entry) {
          problems.push(`${where}: not in the table`);
          continue;
        }
        const dispositions = [entry.disposition, ...entry.rules.map((r) => r.disposition)];
        if (exp.by === 'filter') {
          if (!dispositions.includes(`errno:${exp.errno}`)) problems.push(`${where}: profile says ${dispositions.join(' | ')}, manifest ${exp.errno}`);
        } else if (exp.by === 'supervisor') {
          if (!entry.disposition.startsWith('emulate:')) problems.push(`${where}: profile says ${entry.disposition}, not a handler`);
        } else if (!dispositions.some((d) => d === 'host' || CONTINUING.has(d))) {
          problems.push(`${where}: by ${exp.by}, but the profile never lets it through (${dispositions.join(' | ')})`);
        }
      }
    }
    expect(problems).toEqual([]);
  });
});

describe('escape fixtures, natively (they can tell a way out from a refusal)', () => {
  const nativeRuns = Object.entries(manifest.runs).filter(([name]) => !['exhaust', 'reboot_halt', 'reboot_restart'].includes(name));

  it.each(nativeRuns)('%s prints well-formed lines and exits 1 exactly when one got out', (name, run) => {
    const { code, lines } = native(programOf(name, run), hostArgs);
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) {
      expect(l.escape.startsWith(`${programOf(name, run)}.`)).toBe(true);
      expect(typeof l.contained).toBe('boolean');
      expect(typeof l.ret).toBe('number');
      expect(l.errno === null || /^E[A-Z0-9]+$/.test(l.errno)).toBe(true);
      if (l.skipped) expect(l.contained).toBe(true);
    }
    expect(code).toBe(lines.some((l) => !l.contained) ? 1 : 0);
  });

  it.runIf(isRoot)('as host root, report the ways out that root really has', () => {
    const outOf = (program: string, args: string[] = []) =>
      new Map(native(program, args).lines.map((l) => [l.escape.slice(program.length + 1), l]));
    expect(outOf('shocker').get('own_root_handle')?.contained).toBe(false);
    expect(outOf('namespaces').get('unshare_user')?.contained).toBe(false);
    expect(outOf('mount').get('mount_proc')?.contained).toBe(false);
    expect(outOf('sockets').get('packet_raw')?.contained).toBe(false);
    expect(outOf('privileges').get('root_is_host_root')?.contained).toBe(false);
    if (int80Served()) expect(outOf('int80').get('unshare_newuser')?.contained).toBe(false);
    const host = outOf('hostproc', hostArgs);
    expect(host.get('kill.0')?.contained).toBe(false);
    expect(host.get('process_vm_readv.0')).toMatchObject({ contained: false, errno: 'EFAULT' });
    const ipc = outOf('hostipc', hostArgs);
    expect(ipc.get('abstract_socket')?.contained).toBe(false);
    expect(ipc.get('sysv_shm')?.contained).toBe(false);
    expect(ipc.get('private_socket')?.contained).toBe(false);
    expect(outOf('ptrace_swap').get('getpid_to_unshare')?.contained).toBe(false);
  });

  it('never make a dangerous attempt outside a zone, even when told they are in one', () => {
    for (const args of [[], ['--i-am-in-a-zone']]) {
      const mount = new Map(native('mount', args).lines.map((l) => [l.escape, l]));
      for (const a of ['remount_root_rw', 'mount_setattr_root_rw', 'umount_proc_mask', 'pivot_root']) {
        expect(mount.get(`mount.${a}`)?.skipped, a).toMatch(/native run/);
      }
      const clock = new Map(native('clock', args).lines.map((l) => [l.escape, l]));
      expect(clock.get('clock.clock_settime')?.skipped).toMatch(/native run/);
      const reboot = native('reboot', [...args, '--reboot=halt']).lines.map((l) => l.escape);
      expect(reboot).toEqual(['reboot.bad_magic', 'reboot.cad_off', 'reboot.halt']);
      expect(native('reboot', [...args, '--reboot=halt']).lines.filter((l) => l.skipped).length).toBe(2);
    }
  });

  it('the fuzzer runs natively for a bounded time, isolated, and reports counts', () => {
    const t0 = Date.now();
    const out = execFileSync(join(binDir, 'fuzz_syscalls'), ['--seconds=1', '--seed=1'], { timeout: 20_000 }).toString();
    expect(Date.now() - t0).toBeLessThan(10_000);
    const r = JSON.parse(out) as { zone_mode: boolean; calls: number; batches: number; int80_served: boolean; kinds: Record<string, number> };
    expect(r.zone_mode).toBe(false);
    expect(r.calls).toBeGreaterThan(100);
    expect(r.kinds.x86_64_notified).toBeGreaterThan(0);
    expect(r.int80_served).toBe(int80Served());
    if (r.int80_served) expect(r.kinds.i386_notified).toBeGreaterThan(0);
    else expect(r.kinds.i386 + r.kinds.i386_notified).toBe(0);
  });
});

// ---- in zones ----

async function runEscape(name: string, run: Run): Promise<{ result: RunResult; lines: Line[]; stderr: string }> {
  const argv = [join(zoneBinDir, programOf(name, run)), '--i-am-in-a-zone', ...hostArgs, ...(run.args ?? [])];
  const opts: RunOptions = { argv, stdio: 'pipe', profile: manifest.profile, hostname: 'escape-zone', binds: fixtureBinds };
  let cleanup: (() => Promise<void>) | undefined;
  if (run.limits) {
    const cg = await createZoneCgroup(`escapes-${process.pid}-${name}`, run.limits);
    cleanup = () => cg.destroy();
    opts.onCreated = (pid) => cg.addProcess(pid);
  }
  try {
    // startZone: a zone that asks to restart must not be run again here.
    const result = run.result?.reboot ? await startZone(opts).wait() : await runZone(opts);
    return { result, lines: parseLines(result.stdout?.toString() ?? ''), stderr: result.stderr?.toString() ?? '' };
  } finally {
    await cleanup?.();
  }
}

function errnoMatches(exp: Expect['errno'], got: string | null): boolean {
  return Array.isArray(exp) ? exp.includes(got) : exp === got;
}

/** Every documented attempt printed, contained, with its errno; nothing undocumented. */
function checkRun(name: string, run: Run, result: RunResult, lines: Line[], stderr: string): void {
  const program = programOf(name, run);
  // The last line per attempt counts (a pending line is followed by the result if the call returned).
  const got = new Map(lines.map((l) => [l.escape.slice(program.length + 1), l]));
  expect([...got.keys()].sort(), `attempts printed (stderr: ${stderr})`).toEqual(Object.keys(run.attempts).sort());
  const wrong: string[] = [];
  for (const [attempt, exp] of Object.entries(run.attempts)) {
    const l = got.get(attempt)!;
    if (!l.contained) wrong.push(`${attempt}: GOT OUT (${l.detail})`);
    if (l.skipped) wrong.push(`${attempt}: skipped in a zone (${l.skipped})`);
    if (exp.pending) {
      // Linux never returns from a granted HALT/RESTART; the supervisor may
      // answer 0 an instant before the zone is torn down. An error is wrong.
      if (!l.pending && l.ret !== 0) wrong.push(`${attempt}: the call failed in the zone (${l.errno ?? l.ret}): ${l.detail}`);
      continue;
    }
    if (!errnoMatches(exp.errno, l.errno)) wrong.push(`${attempt}: errno ${l.errno}, documented ${JSON.stringify(exp.errno)} (${l.detail})`);
    if (exp.errno === null && l.ret < 0 && exp.by === 'control') wrong.push(`${attempt}: the control failed (${l.detail})`);
  }
  expect(wrong).toEqual([]);
  if (run.result?.reboot) expect(result.reboot).toBe(run.result.reboot);
  else expect(result.exitCode, stderr).toBe(0);
}

/** The host afterwards: its name, our target process, nothing left mounted or running, and it still forks. */
async function checkHost(before: HostSnapshot): Promise<void> {
  expect(hostHostname()).toBe(hostName);
  expect(() => process.kill(target.pid!, 0)).not.toThrow();
  execFileSync('/bin/true');
  await expectNothingLeft(before);
}

describe.runIf(isRoot)('escapes in a zone under the default profile', () => {

  it.for(Object.entries(manifest.runs))('%s is contained with the documented errno', async ([name, run], ctx) => {
    if (name === 'int80' && !int80Served()) return ctx.skip('this kernel does not serve int 0x80 (IA32 emulation off)');
    const before = hostSnapshot();
    const { result, lines, stderr } = await runEscape(name, run);
    checkRun(name, run, result, lines, stderr);
    await checkHost(before);
  });

  // lxzone exec: a process joined into a running zone must be held exactly
  // like the zone's own (namespaces, ids, caps, filter, no host fd).
  const joined = ['privileges', 'fdleak', 'namespaces', 'mount', 'hostproc', 'hostipc', 'procexe', 'x32', 'int80', 'ptrace_swap'];
  it.for(joined)('%s through execInZone is contained with the documented errno', async (name, ctx) => {
    if (name === 'int80' && !int80Served()) return ctx.skip('this kernel does not serve int 0x80 (IA32 emulation off)');
    const run = manifest.runs[name]!;
    const before = hostSnapshot();
    const zone = startZone({ argv: ['/bin/sleep', '60'], stdio: 'pipe', profile: manifest.profile, hostname: 'escape-zone', binds: fixtureBinds });
    try {
      const initPid = await zone.initPid;
      // initPid is known as soon as the zone is cloned; join once its binary runs.
      const children = `/proc/${initPid}/task/${initPid}/children`;
      const deadline = Date.now() + 10_000;
      while (readFileSync(children, 'utf8').trim() === '' && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
      const argv = [join(zoneBinDir, programOf(name, run)), '--i-am-in-a-zone', ...hostArgs, ...(run.args ?? [])];
      const result = await execInZone(initPid, { argv, stdio: 'pipe', profile: manifest.profile }).wait();
      const stderr = result.stderr?.toString() ?? '';
      checkRun(name, run, result, parseLines(result.stdout?.toString() ?? ''), stderr);
    } finally {
      zone.kill('SIGKILL');
      await zone.wait();
    }
    await checkHost(before);
  });

  // The in-zone comparison can fail: with the filter's refusals lifted (the
  // permissive profile allows io_uring and key construction upcalls), the
  // same fixtures report what the default profile was holding back.
  it('sees through a weaker profile: io_uring and request_key upcalls get through under permissive', async () => {
    const run = async (program: string) => {
      const r = await runZone({ argv: [join(zoneBinDir, program), '--i-am-in-a-zone'], stdio: 'pipe', profile: 'permissive', binds: fixtureBinds });
      return new Map(parseLines(r.stdout?.toString() ?? '').map((l) => [l.escape, l]));
    };
    const ring = await run('io_uring');
    expect(ring.get('io_uring.setup')?.contained).toBe(false);
    const keys = await run('keyring');
    expect(keys.get('keyring.request_key_upcall')?.contained).toBe(false);
    // The session keyring is the zone's own under every profile.
    expect(keys.get('keyring.session_is_fresh')?.contained).toBe(true);
  });

  it('the supervisor survives a syscall fuzzer, still answers, and leaks neither fds nor memory', async () => {
    const fds = () => readdirSync('/proc/self/fd').length;
    // Warm up: the first zone loads the addon and starts the supervisor.
    await runZone({ argv: ['/bin/true'], stdio: 'pipe' });
    const fdsBefore = fds();
    const rssBefore = process.memoryUsage().rss;
    const before = hostSnapshot();
    const t0 = Date.now();
    const r = await runZone({
      argv: [join(zoneBinDir, manifest.fuzz.program), '--i-am-in-a-zone', ...manifest.fuzz.args],
      binds: fixtureBinds,
      stdio: 'pipe',
      profile: manifest.profile,
    });
    const seconds = Number(manifest.fuzz.args.find((a) => a.startsWith('--seconds='))!.split('=')[1]);
    expect(Date.now() - t0).toBeLessThan((seconds + 15) * 1000);
    expect(r.exitCode, r.stderr?.toString()).toBe(0);
    const counts = JSON.parse(r.stdout!.toString()) as { zone_mode: boolean; calls: number; kinds: Record<string, number> };
    expect(counts.zone_mode).toBe(true);
    expect(counts.calls).toBeGreaterThan(1000);
    expect(counts.kinds.x86_64_notified + counts.kinds.i386_notified + counts.kinds.unknown_nr).toBeGreaterThan(500);

    // Still answering, correctly.
    const after = await runZone({ argv: ['/bin/uname', '-n'], hostname: 'after-fuzz', stdio: 'pipe' });
    expect(after.stdout?.toString().trim()).toBe('after-fuzz');

    await expectNothingLeft(before);
    const deadline = Date.now() + 3000;
    while (fds() > fdsBefore && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    expect(fds()).toBeLessThanOrEqual(fdsBefore);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 1024 * 1024);
    expect(hostHostname()).toBe(hostName);
    expect(existsSync(`/proc/${target.pid}`)).toBe(true);
  });
});
