// The way out of a zone (issue 18): the keeper hands the zone's mount
// namespace to the supervisor with its `exited` message, so that the
// namespace's teardown is not in the keeper's exit, which wait() waits for.
// The supervisor closes it once the keeper's control socket has closed:
// after wait(), nothing on the host holds the namespace any more.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startZone } from '../src/zone/run.js';
import { expectNothingLeft, hostSnapshot, type HostSnapshot } from './support/zones.js';

let before: HostSnapshot;
beforeEach(() => {
  before = hostSnapshot();
});
afterEach(async () => {
  await expectNothingLeft(before);
});

const strace = spawnSync('sh', ['-c', 'command -v strace']).stdout?.toString().trim();

const link = (path: string): string => {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
};

/** Every holder of the namespace `ns` ('mnt:[N]') on the host: a process in it, or an fd of it. */
function holdersOf(ns: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    if (link(`/proc/${pid}/ns/mnt`) === ns) out.push(`${pid} is in it`);
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone meanwhile
    }
    for (const fd of fds) if (link(`/proc/${pid}/fd/${fd}`) === ns) out.push(`${pid} fd ${fd}`);
  }
  return out;
}

async function until(what: string, ok: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("the zone's mount namespace at its exit", () => {
  it.skipIf(!strace)('goes to the supervisor with `exited`, and nothing holds it after wait()', async () => {
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const zone = startZone({
      argv: ['/bin/sleep', '30'],
      stdio: 'pipe',
      onEvent: (e) => {
        if (e.type === 'started') started();
      },
    });
    const dir = mkdtempSync(join(tmpdir(), 'lxzone-exit-ns-'));
    try {
      const init = await zone.initPid;
      await running;
      // The zone's own mount namespace (the init unshared it before the binary ran).
      const ns = link(`/proc/${init}/ns/mnt`);
      expect(ns).toMatch(/^mnt:\[\d+\]$/);
      expect(ns).not.toBe(link('/proc/self/ns/mnt'));

      // The keeper's messages from here on, with the fds they carry named (-y).
      const out = join(dir, 'trace');
      const tracer = spawn(strace!, ['-qq', '-y', '-e', 'trace=sendmsg', '-e', 'signal=none', '-o', out, '-p', String(zone.keeperPid)], { stdio: 'ignore' });
      const traced = new Promise((r) => tracer.once('exit', r));
      const tracerPid = (): string => /^TracerPid:\s*(\d+)/m.exec(readFileSync(`/proc/${zone.keeperPid}/status`, 'utf8'))?.[1] ?? '0';
      await until('strace to attach', () => tracerPid() !== '0');

      zone.kill('SIGKILL');
      const r = await zone.wait();
      expect(r.exitCode).toBe(137);
      await traced; // it ends with the keeper

      // The last message carries the namespace (SCM_RIGHTS, the fd named mnt:[N]).
      const sends = readFileSync(out, 'utf8').split('\n').filter((l) => l.startsWith('sendmsg('));
      const withNs = sends.filter((l) => l.includes('SCM_RIGHTS') && l.includes(`<${ns}>`));
      expect(withNs, sends.join('\n')).toHaveLength(1);
      expect(sends.at(-1)).toBe(withNs[0]);

      // The supervisor closed it once the keeper's socket closed: no fd of it
      // in this process nor anywhere else, no process in it (it is torn down).
      await until(`nothing to hold ${ns}`, () => holdersOf(ns).length === 0);
    } finally {
      zone.kill('SIGKILL');
      await zone.wait().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is not kept by the supervisor across many zones (no fd of a mount namespace left in this process)', async () => {
    const nsFds = (): string[] =>
      readdirSync('/proc/self/fd')
        .map((fd) => link(`/proc/self/fd/${fd}`))
        .filter((l) => l.startsWith('mnt:'));
    const baseline = nsFds();
    for (let i = 0; i < 5; i++) {
      const r = await startZone({ argv: ['/bin/true'], stdio: 'pipe' }).wait();
      expect(r.exitCode).toBe(0);
    }
    await until('the supervisor to close the namespaces', () => nsFds().length === baseline.length);
  });
});
