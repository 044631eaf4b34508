// lxzone-runc, the OCI runtime front end, as containerd's go-runc calls it:
// real bundles (a busybox root), real zones. create leaves the container's
// process built and waiting, with no lxzone process behind it but its keeper,
// which serves the zone's emulated calls; start lets it exec; kill, state,
// delete; bad bundles are refused naming the field, leaving nothing behind.
import { spawn } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { detectCgroups } from '../src/zone/cgroups/index.js';
import { readProcStat } from '../src/zone/state/proc.js';
import { makeBusyboxRoot, repoRoot } from './support/zones.js';
import { describeUnless, rootOnly } from './support/skip.js';
import { RUNC_CALL_LIMIT_MS, runcEntry } from './support/oci.js';

let work: string;
let stateDir: string;

interface Result { code: number | null; stdout: string; stderr: string }

/** lxzone-runc ARGS (with --root of this file); stdout/stderr to files when the container outlives the command. */
function runc(args: string[], opts: { out?: string } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const outFd = opts.out ? openSync(opts.out, 'a') : undefined;
    const child = spawn(process.execPath, [...runcEntry(), '--root', stateDir, ...args], {
      cwd: repoRoot,
      stdio: ['ignore', outFd ?? 'pipe', outFd ?? 'pipe'],
    });
    if (outFd !== undefined) closeSync(outFd);
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => (stdout += d));
    child.stderr?.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUNC_CALL_LIMIT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function bundle(name: string, edit: (c: any) => void): string {
  const dir = join(work, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  // Inside the bundle, so that afterAll removes it with the work directory.
  const rootfs = makeBusyboxRoot('rootfs-', dir);
  const c = JSON.parse(readFileSync(join(work, 'spec.json'), 'utf8'));
  c.root.path = rootfs;
  edit(c);
  writeFileSync(join(dir, 'config.json'), JSON.stringify(c));
  return dir;
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

function alive(pid: number): boolean {
  const st = readProcStat(pid);
  return st !== undefined && st.state !== 'Z';
}

function cgroupDirs(rel: string): string[] {
  const host = detectCgroups();
  return host.version === 2 ? [join('/sys/fs/cgroup', rel)] : ['memory', 'pids', 'cpu'].map((c) => join('/sys/fs/cgroup', c, rel));
}

describeUnless(rootOnly(), 'lxzone-runc (OCI runtime)', () => {
  beforeAll(async () => {
    work = mkdtempSync('/tmp/lxz85-');
    chmodSync(work, 0o755);
    stateDir = join(work, 'state');
    const r = await runc(['spec', '--bundle', work]);
    expect(r.code).toBe(0);
    writeFileSync(join(work, 'spec.json'), readFileSync(join(work, 'config.json')));
    rmSync(join(work, 'config.json'));
  });
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('spec writes a config.json that validates; features says what is supported', async () => {
    const spec = JSON.parse(readFileSync(join(work, 'spec.json'), 'utf8'));
    expect(spec.ociVersion).toMatch(/^1\./);
    const f = await runc(['features']);
    expect(f.code).toBe(0);
    const features = JSON.parse(f.stdout);
    expect(features.linux.apparmor.enabled).toBe(false);
    expect(features.linux.cgroup.systemd).toBe(false);
  });

  it('run: the container runs in a zone (filter, hostname, its own ids) and its status is run\'s', async () => {
    const b = bundle('run', (c) => {
      c.hostname = 'ocitest';
      c.process.args = ['/bin/sh', '-c', 'grep Seccomp: /proc/self/status; uname -n; hostname; cat /proc/self/uid_map; exit 7'];
    });
    const r = await runc(['run', '--bundle', b, 'r1']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(7);
    expect(r.stdout).toMatch(/Seccomp:\s+2/);
    expect(r.stdout).toMatch(/^ocitest$/m);
    // The container's root is not the host's.
    expect(r.stdout).not.toMatch(/^\s*0\s+0\s/m);
    expect(existsSync(join(stateDir, 'r1'))).toBe(false);
  });

  it('process.rlimits apply to the container (a limit, and unlimited)', async () => {
    const b = bundle('rlim', (c) => {
      c.process.rlimits = [
        { type: 'RLIMIT_NOFILE', soft: 1234, hard: 4321 },
        { type: 'RLIMIT_CORE', soft: 18446744073709551615, hard: 18446744073709551615 },
      ];
      c.process.args = ['/bin/sh', '-c', 'grep -E "open files|core file" /proc/self/limits'];
    });
    const r = await runc(['run', '--bundle', b, 'l1']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Max open files\s+1234\s+4321\s/);
    expect(r.stdout).toMatch(/Max core file size\s+unlimited\s+unlimited\s/);
    const bad = bundle('rlimbad', (c) => (c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 10, hard: 5 }]));
    const refused = await runc(['create', '--bundle', bad, 'l2']);
    expect(refused.stderr).toContain('process.rlimits[0]: soft is above hard');
    expect(existsSync(join(stateDir, 'l2'))).toBe(false);
  });

  it('process.user.umask is the process\'s umask', async () => {
    const b = bundle('umask', (c) => {
      c.process.user.umask = 0o027;
      c.process.args = ['/bin/sh', '-c', 'umask'];
    });
    const r = await runc(['run', '--bundle', b, 'u1']);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('0027');
    expect(r.code).toBe(0);
  });

  it('create / start / state / kill / delete: created waits, the keeper alone serves it, nothing is left', async () => {
    const b = bundle('life', (c) => {
      c.hostname = 'lifecycle';
      c.process.args = ['/bin/sh', '-c', 'echo started; uname -n; trap "echo term; exit 0" TERM; while true; do sleep 0.05; done'];
    });
    const out = join(work, 'life.out');
    const pidFile = join(work, 'life.pid');
    const created = await runc(['create', '--bundle', b, '--pid-file', pidFile, 'c1'], { out });
    expect(created.code).toBe(0);
    const keeper = Number(readFileSync(pidFile, 'utf8'));
    expect(alive(keeper)).toBe(true);
    const state = JSON.parse((await runc(['state', 'c1'])).stdout);
    expect(state).toMatchObject({ id: 'c1', status: 'created', pid: keeper, bundle: b });
    const record = JSON.parse(readFileSync(join(stateDir, 'c1', 'state.json'), 'utf8'));
    // Built but waiting: nothing printed until start.
    await sleep(300);
    expect(readFileSync(out, 'utf8')).toBe('');
    expect((await runc(['start', 'c1'])).code).toBe(0);
    await waitFor('the container to run', () => readFileSync(out, 'utf8').includes('lifecycle'));
    // uname is emulated: answered by the keeper (no lxzone process of ours is attached).
    expect(readFileSync(out, 'utf8')).toBe('started\nlifecycle\n');
    expect(JSON.parse((await runc(['state', 'c1'])).stdout).status).toBe('running');
    const listed = JSON.parse((await runc(['list', '--format', 'json'])).stdout);
    expect(listed.map((c: { id: string }) => c.id)).toContain('c1');
    // A running container is not deleted without --force.
    const busy = await runc(['delete', 'c1']);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain('running');
    expect((await runc(['kill', 'c1', 'TERM'])).code).toBe(0);
    await waitFor('the container to stop', () => !alive(keeper));
    expect(readFileSync(out, 'utf8')).toContain('term');
    expect(JSON.parse((await runc(['state', 'c1'])).stdout)).toMatchObject({ status: 'stopped', pid: 0 });
    expect((await runc(['delete', 'c1'])).code).toBe(0);
    expect(existsSync(join(stateDir, 'c1'))).toBe(false);
    for (const d of cgroupDirs(record.cgroupPath)) expect(existsSync(d)).toBe(false);
  }, 180_000);

  it('delete --force stops a running container; kill --all reaches every process', async () => {
    const b = bundle('force', (c) => {
      c.process.args = ['/bin/sh', '-c', 'sleep 1000 & sleep 1000 & wait'];
    });
    expect((await runc(['create', '--bundle', b, 'f1'], { out: join(work, 'f1.out') })).code).toBe(0);
    expect((await runc(['start', 'f1'])).code).toBe(0);
    const rec = JSON.parse(readFileSync(join(stateDir, 'f1', 'state.json'), 'utf8'));
    const procs = cgroupDirs(rec.cgroupPath)[0]!;
    await waitFor('three processes', () => readFileSync(join(procs, 'cgroup.procs'), 'utf8').trim().split('\n').length >= 3);
    const pids = readFileSync(join(procs, 'cgroup.procs'), 'utf8').trim().split('\n').map(Number);
    expect((await runc(['kill', '--all', 'f1', 'STOP'])).code).toBe(0);
    await waitFor('every process stopped', () => pids.every((p) => !alive(p) || readProcStat(p)?.state === 'T'));
    expect((await runc(['delete', '--force', 'f1'])).code).toBe(0);
    await waitFor('every process gone', () => pids.every((p) => !alive(p)));
    expect(alive(rec.keeper.pid)).toBe(false);
    expect(existsSync(join(stateDir, 'f1'))).toBe(false);
  });

  it('a failing poststart or poststop hook is a warning: the later hooks run, in order, and the container runs', async () => {
    const log = join(work, 'hooks.log');
    const hook = (word: string) => ({ path: '/bin/sh', args: ['sh', '-c', `echo ${word} >> ${log}`] });
    const b = bundle('hooks', (c) => {
      c.process.args = ['/bin/sh', '-c', 'echo process-ran'];
      c.hooks = {
        poststart: [{ path: '/bin/false', args: ['false'] }, hook('poststart2')],
        poststop: [hook('poststop1'), { path: '/bin/false', args: ['false'] }, hook('poststop3')],
      };
    });
    const r = await runc(['run', '--bundle', b, 'h1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('process-ran');
    expect(readFileSync(log, 'utf8')).toBe('poststart2\npoststop1\npoststop3\n');
    expect(r.stderr).toMatch(/warning: hooks\.poststart\[0\] \/bin\/false exited 1/);
    expect(r.stderr).toMatch(/warning: hooks\.poststop\[1\] \/bin\/false exited 1/);
    expect(existsSync(join(stateDir, 'h1'))).toBe(false);
  }, 120_000);

  it('refuses bad input clearly, leaving nothing behind', async () => {
    const cases: [string[], RegExp, number][] = [
      [['create', '--bundle', join(work, 'nope'), 'x1'], /cannot read config\.json/, 1],
      [['create', '--bundle', bundle('aa', (c) => (c.process.apparmorProfile = 'docker-default')), 'x2'], /process\.apparmorProfile: AppArmor/, 1],
      [['create', '--bundle', bundle('se', (c) => (c.process.selinuxLabel = 'system_u:system_r:container_t:s0')), 'x3'], /process\.selinuxLabel/, 1],
      [['create', '--bundle', bundle('bad', (c) => (c.process.user.uid = -1)), 'x4'], /\/process\/user\/uid/, 1],
      [['create', '--bundle', bundle('ns', (c) => c.linux.namespaces.push({ type: 'network', path: '/proc/1/ns/net' })), 'x5'], /namespaces\[\d\]\.path/, 1],
      [['--systemd-cgroup', 'create', '--bundle', work, 'x6'], /--systemd-cgroup is not supported/, 1],
      [['create', '--bundle', work, '../evil'], /invalid container id/, 2],
      [['start', 'missing'], /container missing does not exist/, 1],
      [['kill', 'missing', 'NOPE'], /unknown signal "NOPE"/, 2],
    ];
    // Independent calls: at once, not one after another (each is a Node start under the host's load).
    const results = await Promise.all(cases.map(([args]) => runc(args)));
    for (const [i, [args, msg, code]] of cases.entries()) {
      const r = results[i]!;
      expect(r.stderr, args.join(' ')).toMatch(msg);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(r.code, args.join(' ')).toBe(code);
    }
    for (const id of ['x1', 'x2', 'x3', 'x4', 'x5', 'x6']) expect(existsSync(join(stateDir, id)), id).toBe(false);
    // An id in use is refused.
    const b = bundle('dup', (c) => (c.process.args = ['/bin/sleep', '100']));
    expect((await runc(['create', '--bundle', b, 'd1'], { out: join(work, 'd1.out') })).code).toBe(0);
    const again = await runc(['create', '--bundle', b, 'd1']);
    expect(again.stderr).toContain('container d1 already exists');
    expect((await runc(['delete', '--force', 'd1'])).code).toBe(0);
  }, 240_000);

  it('--log --log-format json records errors as JSON lines (what containerd reads)', async () => {
    const logFile = join(work, 'log.json');
    const r = await runc(['--log', logFile, '--log-format', 'json', 'state', 'nothere']);
    expect(r.code).toBe(1);
    const last = JSON.parse(readFileSync(logFile, 'utf8').trim().split('\n').pop()!);
    expect(last).toMatchObject({ level: 'error', msg: expect.stringContaining('container nothere does not exist') });
  });
});
