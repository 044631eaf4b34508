// The zone's /proc view through LXCFS on this host's cgroups: a process that
// is pid 1 of its own pid namespace inside a capped zone cgroup reads the cap
// in meminfo, one CPU in cpuinfo/stat, no swap and a fresh uptime; with the
// binds from procViewBinds() applied over /proc in a new mount namespace (what
// the shim does), free(1) and getconf report the cap. The daemon is shared and
// idempotent, and stopping it leaves no mount or process behind.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createZoneCgroup, detectCgroups, pruneCgroupParent, type ZoneCgroup } from '../src/zone/cgroups/index.js';
import { processStartTime } from '../src/zone/network/lock.js';
import { PROC_FILES, procViewBinds, startProcView, stopProcView, type ProcView } from '../src/zone/procview/index.js';

const MiB = 1024 * 1024;
const base = mkdtempSync(join(tmpdir(), 'lxzone-procview-'));
const mountpoint = join(base, 'lxcfs'); // not the shared /run/lxzone/lxcfs: other tests may use that one
const host = detectCgroups();
const parent = join(host.ownPath, `lxzone-t42-${process.pid}`);
let view: ProcView;
let cg: ZoneCgroup;

/** Run a shell script as pid 1 of a new pid namespace inside the zone cgroup (optionally in a new mount ns too). */
function inZone(script: string, mountNs = false): Promise<string> {
  const unshare = mountNs ? ['unshare', '--pid', '--fork', '--mount', '--mount-proc'] : ['unshare', '--pid', '--fork'];
  // `read` gates the start until the shell is in the cgroup; unshare's child inherits it.
  const child = spawn('sh', ['-c', `read go; exec ${unshare.join(' ')} sh -c "$0"`, script], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (b) => (out += b));
  child.stderr.on('data', (b) => (err += b));
  return new Promise((resolve, reject) => {
    child.once('spawn', async () => {
      await cg.addProcess(child.pid!);
      child.stdin.write('go\n');
    });
    const t = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('close', (code) => {
      clearTimeout(t);
      if (code === 0) resolve(out);
      else reject(new Error(`zone script exit ${code}: ${err}`));
    });
  });
}

beforeAll(async () => {
  cg = await createZoneCgroup('procview', { memory: 200 * MiB, swap: 0, cpus: 1 }, { host, parent });
});

afterAll(async () => {
  await cg?.destroy().catch(() => {});
  await pruneCgroupParent(parent, { host });
  await stopProcView({ mountpoint }).catch(() => {});
  rmSync(base, { recursive: true, force: true });
});

describe('procview (LXCFS)', () => {
  it('starts one shared lxcfs on demand, idempotently', async () => {
    view = await startProcView({ mountpoint });
    expect(view.started).toBe(true);
    expect(processStartTime(view.pid)).toBeDefined();
    const again = await startProcView({ mountpoint });
    expect(again).toMatchObject({ pid: view.pid, started: false });
    for (const f of PROC_FILES) expect(existsSync(join(mountpoint, 'proc', f))).toBe(true);
  });

  it('lists binds for every virtualized file, sources under the mountpoint', () => {
    const binds = procViewBinds({ mountpoint });
    expect(binds.map((b) => b.zone)).toEqual([...PROC_FILES.map((f) => `/proc/${f}`), '/sys/devices/system/cpu/online']);
    for (const b of binds) expect(existsSync(b.host)).toBe(true);
  });

  it('shows the zone cgroup caps to a reader in the zone (pid namespace + cgroup)', async () => {
    const out = await inZone(
      `cat ${mountpoint}/proc/meminfo; echo ===; cat ${mountpoint}/proc/cpuinfo; echo ===; cat ${mountpoint}/proc/stat; echo ===; cat ${mountpoint}/proc/uptime; echo ===; cat ${mountpoint}/proc/swaps; echo ===; cat ${mountpoint}/proc/loadavg`,
    );
    const [meminfo, cpuinfo, stat, uptime, swaps, loadavg] = out.split('===\n');
    expect(meminfo).toMatch(new RegExp(`^MemTotal:\\s+${(200 * MiB) / 1024} kB$`, 'm'));
    expect(meminfo).toMatch(/^SwapTotal:\s+0 kB$/m);
    expect((cpuinfo.match(/^processor\s*:/gm) ?? []).length).toBe(1);
    expect((stat.match(/^cpu\d+ /gm) ?? []).length).toBe(1);
    expect(Number(uptime.split(' ')[0])).toBeLessThan(5); // the pid namespace's init just started
    expect(swaps.trim().split('\n')).toHaveLength(1); // header only
    expect(loadavg).toMatch(/^\d+\.\d\d \d+\.\d\d \d+\.\d\d \d+\/\d+ \d+$/m);
    // The host's own view is untouched.
    expect(readFileSync('/proc/meminfo', 'utf8')).not.toMatch(new RegExp(`^MemTotal:\\s+${(200 * MiB) / 1024} kB$`, 'm'));
  });

  it('with the binds applied over /proc, free(1) and getconf report the cap', async () => {
    const binds = procViewBinds({ mountpoint })
      .map((b) => `mount --bind ${b.host} ${b.zone}`)
      .join(' && ');
    const out = await inZone(`${binds} && free -b | awk '/^Mem:/ {print $2}' && getconf _NPROCESSORS_ONLN`, true);
    const [total, cpus] = out.trim().split('\n');
    expect(Number(total)).toBe(200 * MiB);
    expect(Number(cpus)).toBe(1);
  });

  it('follows a cap changed on the running zone', async () => {
    await cg.update({ memory: 160 * MiB });
    const out = await inZone(`cat ${mountpoint}/proc/meminfo`);
    expect(out).toMatch(new RegExp(`^MemTotal:\\s+${(160 * MiB) / 1024} kB$`, 'm'));
  });

  it('stops, leaving no mount and no process', async () => {
    expect(await stopProcView({ mountpoint })).toBe(true);
    expect(processStartTime(view.pid)).toBeUndefined();
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(mountpoint);
    expect(existsSync(mountpoint)).toBe(false);
    expect(await stopProcView({ mountpoint })).toBe(false);
  });
});
