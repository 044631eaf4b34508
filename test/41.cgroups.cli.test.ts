// `lxzone stats` and `lxzone update` against a stand-in running zone: a
// process in a real zone cgroup, recorded in the zone store as the lead's
// boot does (runtime record with cgroupPath), with an IPAM lease.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lxzoneInProcess } from './support/cli-in-process.js';
import { parseResourceFlags } from '../src/cli/resource-options.js';
import { createZoneCgroup, detectCgroups, limitsOf, pruneCgroupParent, type ZoneCgroup } from '../src/zone/cgroups/index.js';
import { defaultZoneConfig } from '../src/zone/config/index.js';
import { Ipam } from '../src/zone/network/index.js';
import { ZoneStore } from '../src/zone/state/index.js';

const MiB = 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), 'lxzone-41cli-'));
const env = { LXZONE_STATE_DIR: join(dir, 'state'), LXZONE_RUNTIME_DIR: join(dir, 'run') };
const host = detectCgroups();
const parent = join(host.ownPath, `lxzone-t41cli-${process.pid}`);
let store: ZoneStore;
let cg: ZoneCgroup;
let sleeper: ChildProcess;
let ipv4: string;

const lxzone = lxzoneInProcess;

beforeAll(async () => {
  Object.assign(process.env, env);
  store = new ZoneStore();
  const cfg = store.saveConfig(defaultZoneConfig('web', { resources: { memoryBytes: 64 * MiB, pidsMax: 20 } }), { create: true });
  cg = await createZoneCgroup('web', limitsOf(cfg.resources), { host, parent });
  sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
  await new Promise((r) => sleeper.once('spawn', r));
  await cg.addProcess(sleeper.pid!);
  store.writeRuntime({ name: 'web', pid: sleeper.pid!, cgroupPath: cg.path });
  ipv4 = (await new Ipam({ stateDir: join(env.LXZONE_STATE_DIR, 'network') }).allocate('web')).ipv4;
});

afterAll(async () => {
  sleeper?.kill('SIGKILL');
  await cg?.destroy().catch(() => {});
  await pruneCgroupParent(parent, { host });
  for (const k of Object.keys(env)) delete process.env[k];
  rmSync(dir, { recursive: true, force: true });
});

describe('lxzone stats', () => {
  it('--json reports usage against the caps and the address', async () => {
    const r = await lxzone('stats', 'web', '--json', '--interval', '300');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ zone: 'web', memory: { max: 64 * MiB }, pids: { current: 1, max: 20 }, ipv4 });
    expect(typeof s.memory.current).toBe('number'); // v1 leaves pages charged where they were allocated: may be 0
    expect(s.cpu.percent).toBeGreaterThanOrEqual(0);
    expect(s.cpu.percent).toBeLessThan(5); // a sleeping zone
  });

  it('prints a table for people', async () => {
    const r = await lxzone('stats', 'web', '--interval', '0');
    expect(r.stdout).toMatch(/^MEMORY {2}.* \/ 64\.0 MiB/m);
    expect(r.stdout).toMatch(/^PIDS {4}1 \/ 20$/m);
    expect(r.stdout).toContain(`ADDRESS ${ipv4}`);
  });

  it('fails clearly for a zone that does not exist', async () => {
    const r = await lxzone('stats', 'nosuch');
    expect(r).toMatchObject({ code: 1, stderr: 'lxzone: zone nosuch does not exist\n' });
  });
});

describe('lxzone update', () => {
  it('changes the running zone and the config', async () => {
    const r = await lxzone('update', 'web', '--memory', '128m', '--pids-limit', '30', '--cpus', '0.5', '--json');
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ running: true, resources: { memoryBytes: 128 * MiB, pidsMax: 30, cpus: 0.5 } });
    const u = await cg.usage();
    expect(u).toMatchObject({ memory: { max: 128 * MiB }, pids: { max: 30 }, cpu: { cpus: 0.5 } });
    expect(store.loadConfig('web').resources).toMatchObject({ memoryBytes: 128 * MiB, pidsMax: 30, cpus: 0.5 });
  });

  it('"max" removes a cap', async () => {
    expect((await lxzone('update', 'web', '--pids-limit', 'max')).code).toBe(0);
    expect((await cg.usage()).pids.max).toBeNull();
    expect(store.loadConfig('web').resources?.pidsMax).toBeUndefined();
  });

  it('refuses bad values as usage errors and changes nothing', async () => {
    expect(await lxzone('update', 'web')).toMatchObject({ code: 2 });
    expect(await lxzone('update', 'nosuch', '--memory', '1g')).toMatchObject({ code: 1, stderr: 'lxzone: zone nosuch does not exist\n' });
    const r = await lxzone('update', 'web', '--cpus', 'lots');
    expect(r).toMatchObject({ code: 2, stderr: expect.stringContaining('option --cpus "lots"') });
    expect((await lxzone('update', 'web', '--cpu-shares', '1')).stderr).toMatch(/option --cpu-shares "1": must be an integer in 2..262144/);
    expect((await cg.usage()).cpu.cpus).toBe(0.5);
  });

  it('a stopped zone gets the new caps in its config only', async () => {
    store.removeRuntime('web');
    const r = await lxzone('update', 'web', '--memory', '96m');
    expect(r).toMatchObject({ code: 0, stdout: 'web: updated (config; applies at next boot)\n' });
    expect(store.loadConfig('web').resources?.memoryBytes).toBe(96 * MiB);
    expect((await cg.usage()).memory.max).toBe(128 * MiB);
    expect(await lxzone('stats', 'web')).toMatchObject({ code: 1, stderr: 'lxzone: zone web is not running\n' });
  });
});

describe('the resource flags: one spelling and one parser on create, run and update', () => {
  it('create takes docker\'s names (and the older --swap / --pids-max, hidden from help)', async () => {
    const r = await lxzone('create', 'flags', '--network', 'none', '-m', '64m', '--memory-swap', '16m', '--cpus', '1.5', '--pids-limit', '40', '--disk', '8m', '--json');
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).resources).toEqual({ memoryBytes: 64 * MiB, swapBytes: 16 * MiB, cpus: 1.5, pidsMax: 40, diskBytes: 8 * MiB });
    const old = await lxzone('create', 'flags-old', '--network', 'none', '--swap', '1m', '--pids-max', '7', '--json');
    expect(JSON.parse(old.stdout).resources).toEqual({ swapBytes: MiB, pidsMax: 7 });
    for (const z of ['flags', 'flags-old']) expect((await lxzone('destroy', z)).code).toBe(0);
    // destroy went through a daemon started on demand: it must not outlive this file's state directory.
    expect((await lxzone('daemon', 'stop')).code).toBe(0);
    expect((await lxzone('create', '--help')).stdout).not.toMatch(/--pids-max|--swap /);
  });

  it('run refuses what create and update refuse, before any zone starts', async () => {
    for (const [flag, value, msg] of [
      ['--pids-limit', '12abc', 'must be an integer'],
      ['--cpus', 'lots', 'must be a positive number of CPUs'],
      ['--cpus', '0', 'must be a positive number of CPUs'],
      ['--memory', '12 parsecs', 'option --memory "12 parsecs": must be a size'],
      ['--memory', 'max', 'a new zone has no cap to remove'],
    ]) {
      const r = await lxzone('run', flag!, value!, '--', '/bin/true');
      expect(r.code, `${flag} ${value}`).toBe(2);
      expect(r.stderr).toContain(msg);
      expect(r.stdout).toBe('');
    }
  });
});

describe('limitsOf: one conversion from resources to cgroup limits', () => {
  it('reads memory 0 as "no cap" wherever it comes from (a config, run -m 0, update --memory 0)', () => {
    expect(limitsOf({ memoryBytes: 0, swapBytes: 0, pidsMax: 9 })).toEqual({ memory: null, swap: 0, pids: 9 });
    expect(limitsOf(parseResourceFlags({ memory: '0' }))).toEqual({ memory: null });
    expect(limitsOf(parseResourceFlags({ memory: 'max' }, { max: true }))).toEqual({ memory: null });
    expect(limitsOf({ diskBytes: 8 * MiB })).toEqual({});
  });
});
