// A busy zone gets its own serving thread (issue 18: hot_server.h, "lxz-hot"),
// which blocks in SECCOMP_IOCTL_NOTIF_RECV; it goes back to the epoll loop
// when the zone falls quiet and is stopped (by a signal that interrupts RECV)
// when the zone is handed to another supervisor. Every answer must stay the
// zone's through all of it: handlers that write the caller's memory, a
// TypeScript handler (the call held while JS answers), unsupported numbers
// (their one event), a zone that exits while served there.
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runZone, startZone } from '../src/zone/run.js';
import { waitFor } from './support/lifecycle-env.js';
import { expectNothingLeft, hostSnapshot, type HostSnapshot } from './support/zones.js';

let before: HostSnapshot;
let dir = '';
beforeEach(() => {
  before = hostSnapshot();
  dir = mkdtempSync(join(tmpdir(), 'lxz-hotzone-'));
  chmodSync(dir, 0o777);
});
afterEach(async () => {
  rmSync(dir, { recursive: true, force: true });
  await expectNothingLeft(before);
});

const out = (r: { stdout?: Buffer }) => (r.stdout ?? Buffer.alloc(0)).toString();
const py = (code: string) => ['/usr/bin/python3', '-c', code];
// Threads of this process serving a hot zone now.
const hotThreads = () =>
  readdirSync('/proc/self/task').filter((t) => {
    try {
      return readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim() === 'lxz-hot';
    } catch {
      return false; // it ended while we listed it
    }
  }).length;

describe('a busy zone served by its own thread', () => {
  it("answers with the zone's names and release, ENOSYS for unknown numbers (one event), and JS's answers", async () => {
    const seen: number[] = [];
    const code = [
      'import os, ctypes',
      'libc = ctypes.CDLL(None, use_errno=True); libc.syscall.restype = ctypes.c_long',
      'names = set(); prios = set(); errs = set()',
      'for _ in range(500):',
      '    u = os.uname(); names.add((u.nodename, u.release))',
      '    prios.add(os.getpriority(os.PRIO_PROCESS, 0))',
      '    libc.syscall(1000); errs.add(ctypes.get_errno())',
      'print(sorted(names), sorted(prios), sorted(errs))',
    ].join('\n');
    const r = await runZone({
      argv: py(code),
      hostname: 'hot',
      kernelVersion: '5.15.0-hot',
      extraRules: [{ names: ['getpriority'], disposition: 'emulate:js', reason: 'no-equivalent', note: 'test handler' }],
      jsHandlers: { getpriority: (call) => { seen.push(call.nr); return 7; } },
      stdio: 'pipe',
    });
    expect(r.exitCode, out({ stdout: r.stderr })).toBe(0);
    // glibc turns the raw 7 into a nice value of 13; 38 = ENOSYS.
    expect(out(r).trim()).toBe("[('hot', '5.15.0-hot')] [13] [38]");
    expect(seen.length).toBe(500);
    expect(r.unsupported.filter((u) => u.nr === 1000).length).toBe(1);
    expect(r.stats.notified.find((n) => n.nr === 63)?.count).toBe(500);
  }, 60_000);

  it('goes back to the epoll loop when quiet (its thread ends), and is served on from there', async () => {
    const go = join(dir, 'go');
    const code = [
      'import os, time',
      // Enough calls that 64 fall within a second (the promotion) even on a loaded machine.
      'def burst(n): return {os.uname().release for _ in range(n)}',
      'a = burst(1000)',
      'open("/mnt/quiet", "w").close()',
      'while not os.path.exists("/mnt/go"): time.sleep(0.05)',
      'b = {os.uname().release}',  // one call from the epoll loop
      'c = burst(300)',
      'print(sorted(a | b | c))',
    ].join('\n');
    let threadsWhileBusy = 0;
    const zone = startZone({ argv: py(code), kernelVersion: '4.4.4-quiet', binds: [{ host: dir, zone: '/mnt', readOnly: false }], stdio: 'pipe' });
    expect(await waitFor(() => readdirSync(dir).includes('quiet') || undefined, 30_000, 20)).toBe(true);
    threadsWhileBusy = hotThreads();
    // Quiet for 2 s: its thread ends (the zone is alive, waiting for /mnt/go).
    expect(await waitFor(() => hotThreads() === 0 || undefined, 30_000, 50)).toBe(true);
    writeFileSync(go, '');
    const r = await zone.wait();
    expect(r.exitCode).toBe(0);
    expect(out(r).trim()).toBe("['4.4.4-quiet']");
    expect(threadsWhileBusy).toBeGreaterThanOrEqual(1);
    expect(r.stats.notified.find((n) => n.nr === 63)?.count).toBe(1301);
  }, 60_000);

  it('is handed over while its thread serves it: the next supervisor answers, then this one again', async () => {
    const { supervisor } = await import('../src/zone/supervisor.js');
    const { compilePolicy } = await import('../src/policy/compile.js');
    const policy = compilePolicy({ profile: 'default', abis: ['x86_64', 'i386'] });
    const socket = join(dir, 'keeper.sock');
    // Calls uname without a pause; on each change of release prints it and
    // makes /mnt/n-<changes so far>. Two servers answering at once would
    // show as releases alternating.
    const code = [
      'import os',
      'last = None; n = 0',
      'while not os.path.exists("/mnt/stop"):',
      '    r = os.uname().release',
      '    if r != last: last = r; n += 1; print(r, flush=True); open("/mnt/n-%d" % n, "w").close()',
    ].join('\n');
    const zone = startZone({
      argv: py(code),
      kernelVersion: '1.1.1-first',
      binds: [{ host: dir, zone: '/mnt', readOnly: false }],
      reattachSocket: socket,
      reattachTimeoutSeconds: 20,
      stdio: 'pipe',
    });
    const changes = (n: number) => readdirSync(dir).includes(`n-${n}`) || undefined;
    expect(await waitFor(() => (hotThreads() > 0 && changes(1)) || undefined, 30_000, 20)).toBe(true);
    const sup = supervisor();
    const next = sup.reattach(socket, { dispatch: policy.dispatch, hostname: 'next', kernelVersion: '2.2.2-next' }, () => undefined);
    zone.handOff(); // stops this process's thread for the zone while the zone calls on
    expect(await waitFor(() => changes(2), 30_000, 20)).toBe(true);
    // Let the next supervisor serve a while: were our thread still serving too, the releases would alternate.
    await new Promise((r) => setTimeout(r, 300));
    sup.detach(next);
    await new Promise((r) => setTimeout(r, 200));
    zone.takeBack();
    // Served by the keeper meanwhile, or here again: the zone's own release either way.
    expect(await waitFor(() => changes(3), 30_000, 20)).toBe(true);
    await waitFor(() => zone.session.counters().notified.some((n) => n.nr === 63) || undefined, 30_000, 20);
    writeFileSync(join(dir, 'stop'), '');
    const r = await zone.wait();
    expect(r.exitCode).toBe(0);
    expect(out(r).split('\n').filter(Boolean)).toEqual(['1.1.1-first', '2.2.2-next', '1.1.1-first']);
  }, 60_000);
});
