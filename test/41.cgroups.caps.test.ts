// Zone caps on the real kernel (v1 or v2, whichever this host has): a fork
// bomb, a memory hog and two CPU spinners run as plain processes moved into a
// zone cgroup are contained, the host keeps answering, caps change at runtime,
// and destroy leaves neither tasks nor directories behind.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createZoneCgroup,
  detectCgroups,
  openZoneCgroup,
  pruneCgroupParent,
  type ZoneCgroup,
} from '../src/zone/cgroups/index.js';

const host = detectCgroups();
const parent = join(host.ownPath, `lxzone-t41-${process.pid}`);
const opts = { host, parent };
const MiB = 1024 * 1024;
const PY = '/usr/bin/python3';
const children: ChildProcess[] = [];
const groups: ZoneCgroup[] = [];

/** Start `argv` blocked on a line of stdin, move it into the cgroup, then let it go: the hog never runs outside. */
async function startIn(cg: ZoneCgroup, argv: string[]): Promise<ChildProcess> {
  const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'ignore', 'ignore'] });
  children.push(child);
  await new Promise((r) => child.once('spawn', r));
  await cg.addProcess(child.pid!);
  child.stdin!.write('go\n');
  return child;
}

const gated = (code: string) => [PY, '-c', `import sys\nsys.stdin.readline()\n${code}`];

function hostStillWorks(): void {
  const t0 = Date.now();
  expect(execFileSync('sh', ['-c', 'echo ok'], { timeout: 5000 }).toString()).toBe('ok\n');
  expect(Date.now() - t0).toBeLessThan(3000);
}

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  for (const g of groups) await g.destroy().catch(() => {});
  await pruneCgroupParent(parent, { host });
});

describe(`zone cgroups (detected cgroup v${host.version})`, () => {
  it('detects the hierarchy: v2 only when the cgroup2 mount offers the memory controller', () => {
    // This CI host: v1 controllers plus a cgroup2 mount offering only hugetlb (a hybrid): v1.
    const mi = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.includes(' - cgroup2 '));
    const v2Controllers = mi ? readFileSync(join(mi.split(' ')[4], 'cgroup.controllers'), 'utf8').trim().split(/\s+/) : [];
    expect(host.version).toBe(v2Controllers.includes('memory') ? 2 : 1);
    if (host.version === 1) expect([...host.v1Mounts.keys()]).toEqual(expect.arrayContaining(['memory', 'cpu', 'cpuacct', 'pids']));
  });

  it('creates the zone cgroup with caps and exposes one procs file per hierarchy', async () => {
    const cg = await createZoneCgroup('caps', { memory: 128 * MiB, cpus: 0.5, cpuShares: 512, pids: 50 }, opts);
    groups.push(cg);
    const files = cg.procsFiles();
    expect(files.length).toBeGreaterThanOrEqual(host.version === 1 ? 4 : 1);
    for (const f of files) expect(existsSync(f)).toBe(true);
    const u = await cg.usage();
    expect(u.memory.max).toBe(128 * MiB);
    expect(u.memory.swapMax).toBe(0);
    expect(u.cpu.cpus).toBe(0.5);
    expect(Math.abs(u.cpu.shares - 512)).toBeLessThanOrEqual(30); // v2 rounds through cpu.weight
    expect(u.pids.max).toBe(50);
    expect(u.pids.current).toBe(0);
    // A leftover directory (no tasks) is taken over with exactly the new caps, old ones cleared.
    const again = await createZoneCgroup('caps', { memory: 128 * MiB, cpus: 0.5, cpuShares: 512 }, opts);
    expect((await again.usage()).pids.max).toBeNull();
    await again.update({ pids: 50 });
    // A restarted daemon finds it again.
    expect((await openZoneCgroup('caps', opts))?.path).toBe(cg.path);
    expect(await openZoneCgroup('nonesuch', opts)).toBeUndefined();
  });

  it('changes caps on a running zone and refuses invalid ones by field', async () => {
    const cg = groups[0];
    const sleeper = await startIn(cg, gated('import time\ntime.sleep(30)'));
    expect(await cg.pids()).toContain(sleeper.pid);
    await cg.update({ pids: 10, cpus: 1.5, memory: 96 * MiB });
    const u = await cg.usage();
    expect(u).toMatchObject({ pids: { max: 10 }, cpu: { cpus: 1.5 }, memory: { max: 96 * MiB } });
    expect(u.pids.current).toBe(1);
    // Found again from the zone's init pid, or from the recorded path.
    expect((await openZoneCgroup('caps', { host, pid: sleeper.pid }))?.path).toBe(cg.path);
    expect((await openZoneCgroup('caps', { host, path: cg.path }))?.dirs).toEqual(cg.dirs);
    await cg.update({ pids: null, cpus: null });
    expect((await cg.usage()).pids.max).toBeNull();
    expect((await cg.usage()).cpu.cpus).toBeNull();
    await expect(cg.update({ pids: 0 })).rejects.toThrow(/resources.pids: 0 must be an integer/);
    await expect(cg.update({ cpus: -1 })).rejects.toThrow(/resources.cpus/);
    await expect(cg.update({ memory: 1000 })).rejects.toThrow(/resources.memory/);
    await expect(createZoneCgroup('caps', {}, opts)).rejects.toThrow(/still has processes/);
  });

  it('contains a fork bomb at pids.max, and the host keeps working', async () => {
    const cg = await createZoneCgroup('forkbomb', { pids: 16, cpus: 0.5 }, opts);
    groups.push(cg);
    const bomb = await startIn(cg, gated('import os\nwhile True:\n    try: os.fork()\n    except OSError: pass'));
    await new Promise((r) => setTimeout(r, 1500));
    hostStillWorks();
    const u = await cg.usage();
    expect(u.pids.current).toBeLessThanOrEqual(16);
    expect(u.pids.current).toBeGreaterThanOrEqual(12); // it did fork up to the cap
    expect((await cg.pids()).length).toBeLessThanOrEqual(16);
    const events = readFileSync(join(cg.dirs.pids ?? cg.dirs.unified, 'pids.events'), 'utf8');
    expect(Number(/max (\d+)/.exec(events)![1])).toBeGreaterThan(0); // forks were refused
    await cg.destroy();
    expect(bomb.exitCode !== null || bomb.signalCode !== null || (await exited(bomb))).toBe(true);
    for (const f of cg.procsFiles()) expect(existsSync(f)).toBe(false);
  });

  it('OOM-kills a memory hog inside its cap (no swap escape)', async () => {
    const cg = await createZoneCgroup('memhog', { memory: 64 * MiB }, opts);
    groups.push(cg);
    const hog = await startIn(cg, gated("b = []\nwhile True:\n    b.append(b'x' * (4 << 20))"));
    const sig = await new Promise<string | null>((r) => {
      const t = setTimeout(() => r('timeout'), 20_000);
      hog.once('exit', (_c, s) => (clearTimeout(t), r(s)));
    });
    expect(sig).toBe('SIGKILL');
    const u = await cg.usage();
    expect(u.memory.oomKills).toBeGreaterThanOrEqual(1);
    expect(u.memory.current).toBeLessThanOrEqual(64 * MiB);
    hostStillWorks();
    await cg.destroy();
  });

  it('bounds two CPU spinners to the group cap of 0.2 CPU', async () => {
    const cg = await createZoneCgroup('spinner', { cpus: 0.2 }, opts);
    groups.push(cg);
    const spin = gated('while True: pass');
    await startIn(cg, spin);
    await startIn(cg, spin);
    await new Promise((r) => setTimeout(r, 300)); // let them start spinning
    const before = (await cg.usage()).cpu.usageUsec;
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, 2000));
    const u = await cg.usage();
    const wallUsec = (Date.now() - t0) * 1000;
    const used = u.cpu.usageUsec - before;
    expect(used).toBeGreaterThan(0.05 * wallUsec); // they did run
    expect(used).toBeLessThan(0.2 * wallUsec * 1.25 + 20_000); // but not beyond the cap (2 CPUs were free to take)
    expect(u.cpu.nrThrottled).toBeGreaterThan(0);
    hostStillWorks();
    await cg.destroy();
  });

  it('destroy kills what is left and removes every directory', async () => {
    const cg = groups[0];
    await cg.destroy();
    await cg.destroy(); // idempotent
    for (const d of Object.values(cg.dirs)) expect(existsSync(d)).toBe(false);
    await pruneCgroupParent(parent, { host });
    const roots = host.version === 2 ? [host.v2Root!] : [...new Set(host.v1Mounts.values())];
    for (const r of roots) expect(existsSync(join(r, parent))).toBe(false);
  });
});

async function exited(c: ChildProcess): Promise<boolean> {
  if (c.exitCode !== null || c.signalCode !== null) return true;
  return new Promise((r) => {
    const t = setTimeout(() => r(false), 5000);
    c.once('exit', () => (clearTimeout(t), r(true)));
  });
}
