// lxzone-runc exec, ps, pause/resume, update and events on a real running
// container: exec'd processes get the container's zone (hostname, the
// bundle's seccomp as recorded at create, its cgroup); --detach leaves the
// process with its own keeper; pause freezes the cgroup; update changes its
// caps; events --stats reads its usage.
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, expect, it } from 'vitest';
import { detectCgroups } from '../src/zone/cgroups/index.js';
import { alive, useOciHarness, waitFor } from './support/oci.js';
import { describeUnless, rootOnly } from './support/skip.js';
import { repoRoot } from './support/zones.js';


function cgroupFile(rel: string, v1: [string, string], v2: string): string {
  const host = detectCgroups();
  return host.version === 2 ? join(host.v2Root!, rel, v2) : join(host.v1Mounts.get(v1[0])!, rel, v1[1]);
}

describeUnless(rootOnly(), 'lxzone-runc exec, ps, pause/resume, update, events', () => {
  const h = useOciHarness('lxz85ops', {
    after: async () => {
      await h.runc(['delete', '--force', 'o1']);
    },
  });
  let out: string;
  let rec: { cgroupPath: string; keeper: { pid: number }; initPid: number };
  beforeAll(async () => {
    const b = h.bundle('ops', (c) => {
      c.hostname = 'opsbox';
      c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 95 }] };
      // A counter on stdout: it stops while the container is frozen.
      c.process.args = ['/bin/sh', '-c', 'i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.05; done'];
    });
    out = join(h.work, 'ops.out');
    expect((await h.runc(['create', '--bundle', b, 'o1'], { out })).code).toBe(0);
    expect((await h.runc(['start', 'o1'])).code).toBe(0);
    rec = JSON.parse(readFileSync(join(h.stateDir, 'o1', 'state.json'), 'utf8'));
  });

  it('exec runs a command in the container: its hostname, its seccomp, its status', async () => {
    const r = await h.runc(['exec', 'o1', '/bin/sh', '-c', 'uname -n; grep Seccomp: /proc/self/status; grep CapBnd: /proc/self/status; mkdir /tmp/nope; exit 3']);
    expect(r.stdout).toMatch(/^opsbox\nSeccomp:\s+2\n/);
    // The container's own capabilities (runc's default set: CAP_AUDIT_WRITE 29, CAP_KILL 5, CAP_NET_BIND_SERVICE 10).
    expect(r.stdout).toMatch(new RegExp(`CapBnd:\\s+0*${((1n << 29n) | (1n << 5n) | (1n << 10n)).toString(16)}\\n`));
    expect(r.stderr).toMatch(/mkdir: can't create directory '\/tmp\/nope': (Operation )?not supported/i);
    expect(r.code).toBe(3);
  });

  it('exec --process FILE --detach --pid-file: the process runs on with its own keeper', async () => {
    const procFile = join(h.work, 'proc.json');
    writeFileSync(procFile, JSON.stringify({ args: ['/bin/sh', '-c', 'sleep 0.3; echo detached-done $(id -u)'], cwd: '/', user: { uid: 1000, gid: 1000 }, env: ['PATH=/bin'] }));
    const pidFile = join(h.work, 'exec.pid');
    const xout = join(h.work, 'exec.out');
    const r = await h.runc(['exec', '--process', procFile, '--detach', '--pid-file', pidFile, 'o1'], { out: xout });
    expect(r.code).toBe(0);
    const keeper = Number(readFileSync(pidFile, 'utf8'));
    expect(keeper).toBeGreaterThan(0);
    await waitFor('the detached process to end', () => !alive(keeper));
    expect(readFileSync(xout, 'utf8')).toContain('detached-done 1000');
  });

  it('exec --detach of a process that ends at once: its status reaches the caller\'s reaper (as containerd\'s shim), not lxzone-runc', async () => {
    // The shim is a subreaper and reads the exit of the pid in --pid-file. A
    // Node lxzone-runc reaps its children: a keeper that exited before
    // lxzone-runc did would have its status lost. Repeated: it was a race.
    for (let i = 0; i < 3; i++) {
      const pidFile = join(h.work, `quick${i}.pid`);
      const r = spawnSync('python3', [join(repoRoot, 'test', 'support', 'subreaper.py'), process.execPath, '--import', 'tsx', join(repoRoot, 'test', 'support', 'runc-entry.ts'),
        '--root', h.stateDir, 'exec', '--detach', '--pid-file', pidFile, 'o1', '/bin/sh', '-c', 'exit 7'], { cwd: repoRoot, encoding: 'utf8', timeout: 90_000 });
      expect(r.status, r.stderr).toBe(0);
      const keeper = readFileSync(pidFile, 'utf8').trim();
      const reaped = new Map(r.stdout.trim().split('\n').map((l) => l.split(' ') as [string, string]));
      expect(reaped.get('runtime'), r.stdout).toBe('0');
      expect(reaped.get(keeper), r.stdout).toBe('7');
    }
  });

  it('ps --format json lists the container\'s processes; ps prints the host\'s ps rows of them', async () => {
    const r = await h.runc(['ps', '--format', 'json', 'o1']);
    expect(r.code).toBe(0);
    const pids = JSON.parse(r.stdout) as number[];
    expect(pids).toContain(rec.initPid);
    const t = await h.runc(['ps', 'o1']);
    expect(t.stdout.split('\n')[0]).toMatch(/\bPID\b/);
    expect(t.stdout).toMatch(new RegExp(`^\\S+\\s+${rec.initPid}\\s`, 'm'));
  });

  it('pause freezes every process (status paused, the counter stops); resume thaws them', async () => {
    expect((await h.runc(['pause', 'o1'])).code).toBe(0);
    expect(JSON.parse((await h.runc(['state', 'o1'])).stdout).status).toBe('paused');
    const size = statSync(out).size;
    await sleep(400);
    expect(statSync(out).size).toBe(size); // frozen tasks write nothing
    expect((await h.runc(['pause', 'o1'])).stderr).toMatch(/is paused, not running/);
    expect((await h.runc(['resume', 'o1'])).code).toBe(0);
    await waitFor('the counter to move again', () => statSync(out).size > size);
    expect(JSON.parse((await h.runc(['state', 'o1'])).stdout).status).toBe('running');
  });

  it('update changes the running container\'s caps (flags and a resources file)', async () => {
    expect((await h.runc(['update', '--pids-limit', '77', 'o1'])).code).toBe(0);
    expect(readFileSync(cgroupFile(rec.cgroupPath, ['pids', 'pids.max'], 'pids.max'), 'utf8').trim()).toBe('77');
    const res = join(h.work, 'res.json');
    writeFileSync(res, JSON.stringify({ memory: { limit: 200 * 1048576 } }));
    expect((await h.runc(['update', '--resources', res, 'o1'])).code).toBe(0);
    expect(Number(readFileSync(cgroupFile(rec.cgroupPath, ['memory', 'memory.limit_in_bytes'], 'memory.max'), 'utf8'))).toBe(200 * 1048576);
    const bad = await h.runc(['update', '--resources', '-', 'o1'], { input: '{"memory":{"limit":"lots"}}' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--resources -.*\/memory\/limit/);
  });

  it('events --stats prints one stats record with its usage', async () => {
    const r = await h.runc(['events', '--stats', 'o1']);
    expect(r.code).toBe(0);
    const ev = JSON.parse(r.stdout);
    expect(ev).toMatchObject({ type: 'stats', id: 'o1' });
    expect(ev.data.pids.current).toBeGreaterThanOrEqual(1);
    expect(ev.data.memory.usage.usage).toBeGreaterThan(0);
    expect(ev.data.cpu.usage.total).toBeGreaterThan(0);
  });

  it('refuses bad input clearly', async () => {
    const cases: [string[], RegExp, number][] = [
      [['exec', 'missing', '/bin/true'], /container missing does not exist/, 1],
      [['exec', 'o1'], /exec: give a command, or --process FILE/, 2],
      [['exec', '--preserve-fds', '2', 'o1', '/bin/true'], /exec --preserve-fds is not supported/, 1],
      [['exec', '--process', join(h.work, 'nope.json'), 'o1'], /--process .*nope\.json: ENOENT/, 1],
      [['pause', 'missing'], /container missing does not exist/, 1],
      [['resume', 'o1'], /is running, not paused/, 1],
    ];
    for (const [args, msg, code] of cases) {
      const r = await h.runc(args);
      expect(r.stderr, args.join(' ')).toMatch(msg);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.code, args.join(' ')).toBe(code);
    }
  });
});
