// Negative nice values in a zone (issue 21.6): a zone's root lowers its own
// nice value, and that of another process of the zone, as root does natively, through the supervisor
// (native/supervisor/handlers/setpriority.cc), when the zone has a cgroup of
// its own whose cpu weight bounds it against the host. Then the attacks: a
// zone user, a nested user namespace's root, another process of the zone,
// PRIO_USER and PRIO_PGRP, a host process's pid, realtime scheduling, and a
// zone in its launcher's cgroup (no cgroup of its own) all get the kernel's
// refusal, and nothing outside the caller changes.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runZone, type RunOptions } from '../src/zone/run.js';
import { checkNothingLeftAroundEach } from './support/zones.js';

checkNothingLeftAroundEach();

// One line per step: "name ok VALUE" or "name ERRNO".
const PROBE = String.raw`
import errno, os, sys, threading
def t(name, f):
    try:
        print(name, 'ok', f())
    except OSError as e:
        print(name, errno.errorcode[e.errno])
    sys.stdout.flush()
for step in sys.argv[1:]:
    kind, _, arg = step.partition('=')
    if kind == 'self': t(step, lambda: (os.setpriority(os.PRIO_PROCESS, 0, int(arg)), os.getpriority(os.PRIO_PROCESS, 0))[1])
    elif kind == 'pid': t(step, lambda: (os.setpriority(os.PRIO_PROCESS, os.getpid(), int(arg)), os.getpriority(os.PRIO_PROCESS, 0))[1])
    elif kind == 'other': t(step, lambda: (os.setpriority(os.PRIO_PROCESS, int(arg), -5), os.getpriority(os.PRIO_PROCESS, int(arg)))[1])
    elif kind == 'child':
        import subprocess
        c = subprocess.Popen(['/bin/sleep', '30'])
        t(step, lambda: (os.setpriority(os.PRIO_PROCESS, c.pid, int(arg)), open(f'/proc/{c.pid}/stat').read().split(') ')[1].split()[16])[1])
        c.kill(); c.wait()
    elif kind == 'user': t(step, lambda: os.setpriority(os.PRIO_USER, 0, -5))
    elif kind == 'pgrp': t(step, lambda: os.setpriority(os.PRIO_PGRP, 0, -5))
    elif kind == 'fifo': t(step, lambda: os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1)))
    elif kind == 'thread':
        def run(): t(step, lambda: (os.setpriority(os.PRIO_PROCESS, 0, int(arg)), os.getpriority(os.PRIO_PROCESS, 0))[1])
        th = threading.Thread(target=run); th.start(); th.join()
        t('main-after-thread', lambda: os.getpriority(os.PRIO_PROCESS, 0))
`;

const CAPPED: Partial<RunOptions> = { limits: { memory: 256 * 1024 * 1024 } };

async function probe(steps: string[], opts: Partial<RunOptions> = {}, prefix: string[] = []): Promise<string[]> {
  const r = await runZone({ argv: [...prefix, '/usr/bin/python3', '-c', PROBE, ...steps], stdio: 'pipe', ...opts });
  expect(r.stderr?.toString() ?? '').toBe('');
  expect(r.exitCode).toBe(0);
  return (r.stdout?.toString() ?? '').trim().split('\n');
}

describe("a zone's root lowers its own nice value", () => {
  it('in a zone with a cgroup of its own: itself (0, its pid), a thread of its own, clamped at -20; nice(1) too', async () => {
    expect(await probe(['self=-5', 'pid=-30', 'thread=-3'], CAPPED)).toEqual([
      'self=-5 ok -5',
      'pid=-30 ok -20',
      'thread=-3 ok -3',
      'main-after-thread ok -20',
    ]);
    const r = await runZone({ argv: ['/bin/sh', '-c', 'nice -n -7 cut -d" " -f19 /proc/self/stat'], stdio: 'pipe', ...CAPPED });
    expect(r.stdout?.toString().trim()).toBe('-7');
  });

  it("another process of the zone: its child, the zone's init (renice(1) too)", async () => {
    expect(await probe(['child=-6', 'other=1'], CAPPED)).toEqual(['child=-6 ok -6', 'other=1 ok -5']);
    const r = await runZone({ argv: ['/bin/sh', '-c', 'sleep 30 & renice -n -4 -p $! >/dev/null; cut -d" " -f19 /proc/$!/stat; kill $!'], stdio: 'pipe', ...CAPPED });
    expect(r.stdout?.toString().trim()).toBe('-4');
  });

  it('nowhere else: a zone user, a nested namespace root, PRIO_USER/PGRP, a host pid, realtime', async () => {
    const host = spawn('/bin/sleep', ['60'], { stdio: 'ignore' });
    try {
      const hostPid = host.pid!;
      // pid 1 is the zone's init: another process of the zone. The host's
      // sleep's pid means nothing in the zone's pid namespace (or another zone process).
      expect(await probe([`other=${hostPid}`, 'user', 'pgrp', 'fifo'], CAPPED)).toEqual([
        expect.stringMatching(new RegExp(`^other=${hostPid} (ESRCH|EACCES)$`)),
        'user EACCES',
        'pgrp EACCES',
        'fifo EPERM',
      ]);
      expect(readFileSync(`/proc/${hostPid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]).toBe('0');
      expect(await probe(['self=-5', 'child=-2', 'other=1', 'thread=-1'], { ...CAPPED, uid: 1000, gid: 1000 })).toEqual([
        'self=-5 EACCES',
        'child=-2 EACCES',
        'other=1 EACCES',
        'thread=-1 EACCES',
        'main-after-thread ok 0',
      ]);
      // Root of a user namespace nested in the zone holds none of the zone root's privileges.
      expect(await probe(['self=-5', 'child=-2', 'other=1'], CAPPED, ['/usr/bin/unshare', '-r'])).toEqual(['self=-5 EACCES', 'child=-2 EACCES', 'other=1 EACCES']);
    } finally {
      host.kill('SIGKILL');
    }
  });

  it("not in a zone without a cgroup of its own (its launcher's cgroup, where -20 would starve the launcher's neighbours)", async () => {
    expect(await probe(['self=-5', 'child=-2', 'other=1', 'self=5'])).toEqual(['self=-5 EACCES', 'child=-2 EACCES', 'other=1 EACCES', 'self=5 ok 5']);
  });
});
