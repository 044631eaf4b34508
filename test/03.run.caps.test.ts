// lxzone run with resource caps: a cgroup of the zone's own, its /proc view,
// removed when the zone exits (issues 2, 7).
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { detectCgroups } from '../src/zone/cgroups/index.js';
import { runZone } from '../src/zone/run.js';
import { runCli, checkNothingLeftAroundEach } from './support/zones.js';

checkNothingLeftAroundEach();

function runCgroups(): string[] {
  const host = detectCgroups();
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > 6) return;
    let entries: string[] = [];
    try {
      entries = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.startsWith('run-')) out.push(`${dir}/${e}`);
      walk(`${dir}/${e}`, depth + 1);
    }
  };
  walk(host.version === 2 ? '/sys/fs/cgroup' : '/sys/fs/cgroup/pids', 0);
  return out;
}

describe('runZone() with limits', () => {
  it('contains a fork bomb and removes its cgroup afterwards', async () => {
    const cgroupsBefore = runCgroups();
    const r = await runZone({
      argv: ['/usr/bin/python3', '-c', [
        'import os, time',
        'n = 0',
        'for i in range(200):',
        '    try:',
        '        pid = os.fork()',
        '    except OSError:',
        '        break',
        '    if pid == 0:',
        '        time.sleep(3); os._exit(0)',
        '    n += 1',
        'print("started"); print(n)',
      ].join('\n')],
      limits: { pids: 20 },
      stdio: 'pipe',
    });
    const lines = r.stdout!.toString().trim().split('\n');
    expect(lines[0]).toBe('started');
    expect(Number(lines[1])).toBeLessThan(20);
    expect(runCgroups()).toEqual(cgroupsBefore);
  });

  it("shows the memory cap in the zone's /proc/meminfo, free(1) and sysinfo(2)", async () => {
    const r = await runZone({
      argv: ['/bin/sh', '-c', "head -1 /proc/meminfo; free -b | awk '/Mem:/ {print $2}'; busybox free | awk '/Mem:/ {print $2}'"],
      limits: { memory: 128 * 1024 * 1024 },
      stdio: 'pipe',
    });
    const [meminfo, free, busyboxFree] = r.stdout!.toString().trim().split('\n');
    expect(meminfo).toMatch(/^MemTotal:\s+131072 kB$/);
    expect(Number(free)).toBe(128 * 1024 * 1024);
    expect(Number(busyboxFree)).toBe(128 * 1024); // busybox reads sysinfo(2), in KiB
  });
});

describe('lxzone run --memory/--pids-limit', () => {
  it('applies the caps from the command line', async () => {
    const r = await runCli(['run', '--memory', '96m', '--pids-limit', '50', '--', '/bin/sh', '-c', 'head -1 /proc/meminfo']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^MemTotal:\s+98304 kB$/);
  });
});
