// The lifecycle verbs against real zones, through the CLI as a user runs it
// (which starts a daemon on demand): create, boot, list, inspect, logs, halt,
// reboot, destroy, and their failure paths.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { vethNames } from '../src/zone/network/index.js';
import { hostLinks, useLifecycleEnv, waitFor } from './support/lifecycle-env.js';
import { makeBusyboxRoot } from './support/zones.js';
import type { ZoneInfo } from '../src/zone/lifecycle/types.js';

const roots: string[] = [];
const env = useLifecycleEnv(80, {
  afterReset: async () => {
    // Nothing of a destroyed zone is left on the host (the kernel tears a dead zone's netns down asynchronously).
    const ours = ['web', 'stubborn', 'gone', 'twice', 'bad', 'a', 'b'].map((n) => vethNames(env.bridge.name, n).host);
    const left = () => hostLinks().filter((l) => ours.includes(l));
    await waitFor(() => left().length === 0, 60_000, 200);
    expect(left()).toEqual([]);
    expect(existsSync(join('/sys/fs/cgroup/memory', env.cgroupParent, 'web'))).toBe(false);
    for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
  },
});
const { cli, ok, list, inspect } = env;
const LOOP = 'echo hello; echo oops >&2; while true; do sleep 0.2; done';

describe('a zone from create to destroy', () => {
  it('boots with its address, cgroup and logs, halts, keeps its address, and leaves nothing after destroy', async () => {
    const created = await ok(['create', 'web', '--memory', '64m', '--', '/bin/sh', '-c', LOOP]);
    const ip = created.trim().split(' ')[1]!;
    expect(ip.startsWith(env.net)).toBe(true);
    expect((await list()).map((z) => [z.name, z.state, z.ipv4])).toEqual([['web', 'stopped', ip]]);

    const booted = JSON.parse(await ok(['boot', 'web', '--json'])) as ZoneInfo;
    expect(booted.state).toBe('running');
    const pid = booted.pid!;
    // The zone's init is in its cgroup, with its cap, and has eth0 with the leased address.
    const cgroup = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    expect(cgroup).toMatch(new RegExp(`memory:${env.cgroupParent}/web\\n`));
    expect(readFileSync(join('/sys/fs/cgroup/memory', env.cgroupParent, 'web', 'memory.limit_in_bytes'), 'utf8').trim()).toBe(String(64 * 1024 * 1024));
    const addrs = execFileSync('nsenter', ['-t', String(pid), '-n', 'ip', '-br', '-4', 'addr', 'show', 'eth0']).toString();
    expect(addrs).toContain(`${ip}/24`);

    const [row] = await list();
    expect(row).toMatchObject({ name: 'web', state: 'running', pid, ipv4: ip, network: 'zone' });
    expect(row!.uptimeSeconds).toBeGreaterThanOrEqual(0);
    const table = await ok(['list']);
    expect(table).toMatch(new RegExp(`^web\\s+running\\s+${pid}\\s+\\d+s\\s+[0-9.]+[KM]?i?B/64\\.0MiB\\s+${ip.replace(/\./g, '\\.')}$`, 'm'));
    expect(row!.memory?.max).toBe(64 * 1024 * 1024);

    const details = await inspect('web');
    expect(details.config?.command).toEqual(['/bin/sh', '-c', LOOP]);
    expect(details.address?.ipv4).toBe(ip);
    expect(details.cgroup?.path).toBe(`${env.cgroupParent}/web`);
    expect(details.usage?.memory.max).toBe(64 * 1024 * 1024);

    await waitFor(() => existsSync(details.paths.logs.stdout) && readFileSync(details.paths.logs.stdout, 'utf8').includes('hello'));
    const logs = await cli(['logs', 'web']);
    expect(logs.stdout).toBe('hello\n');
    expect(logs.stderr).toBe('oops\n');

    const halted = JSON.parse(await ok(['halt', 'web', '--json'])) as ZoneInfo;
    expect(halted.state).toBe('stopped');
    // sh ends on SIGTERM: no SIGKILL was needed.
    expect(halted.lastExit).toMatchObject({ haltedByUs: true, exitCode: 143, signal: 'SIGTERM' });
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(hostLinks()).not.toContain(vethNames(env.bridge.name, 'web').host);
    expect(existsSync(join('/sys/fs/cgroup/memory', env.cgroupParent, 'web'))).toBe(false);

    // Booted again: same address, a new init.
    const again = JSON.parse(await ok(['boot', 'web', '--json'])) as ZoneInfo;
    expect(again.ipv4).toBe(ip);
    expect(again.pid).not.toBe(pid);
    const rebooted = JSON.parse(await ok(['reboot', 'web', '--json'])) as ZoneInfo;
    expect(rebooted).toMatchObject({ state: 'running', ipv4: ip });
    expect(rebooted.pid).not.toBe(again.pid);

    await ok(['destroy', '--force', 'web']);
    expect(existsSync(join(env.stateDir, 'zones', 'web'))).toBe(false);
    expect(existsSync(`/proc/${rebooted.pid}`)).toBe(false);
    const leases = JSON.parse(readFileSync(join(env.stateDir, 'network', `ipam-${env.bridge.name}.json`), 'utf8')) as { leases: object };
    expect(leases.leases).toEqual({});
    expect((await cli(['inspect', 'web'])).stderr).toContain('zone web does not exist');
  });

  it('halt stops a zone that ignores SIGTERM after the grace period', async () => {
    await ok(['create', 'stubborn', '--network', 'loopback', '--', '/bin/sh', '-c', 'trap "" TERM; while true; do sleep 0.2; done']);
    const { pid } = JSON.parse(await ok(['boot', 'stubborn', '--json'])) as ZoneInfo;
    const t0 = Date.now();
    const halted = JSON.parse(await ok(['halt', '-t', '1', 'stubborn', '--json'])) as ZoneInfo;
    const took = Date.now() - t0;
    expect(halted.state).toBe('stopped');
    expect(halted.lastExit).toMatchObject({ exitCode: 137, signal: 'SIGKILL' });
    expect(took).toBeGreaterThanOrEqual(1000);
    expect(took).toBeLessThan(60_000);
    expect(existsSync(`/proc/${pid}`)).toBe(false);
  });
});

describe('failure paths', () => {
  it('boot of a zone whose rootfs vanished fails and says so', async () => {
    const root = makeBusyboxRoot('lxzone-t80-');
    roots.push(root);
    await ok(['create', 'gone', '--rootfs', root, '--network', 'none', '--', '/bin/sleep', '30']);
    rmSync(root, { recursive: true, force: true });
    const r = await cli(['boot', 'gone']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cannot boot zone gone');
    expect(r.stderr).toContain(`field "rootfs.path": ${root} does not exist`);
    expect((await list())[0]).toMatchObject({ name: 'gone', state: 'stopped' });
    expect(existsSync(join(env.runtimeDir, 'zones', 'gone.json'))).toBe(false);
  });

  it('destroy of a running zone is refused unless forced', async () => {
    await ok(['create', 'web', '--', '/bin/sh', '-c', LOOP]);
    const { pid } = JSON.parse(await ok(['boot', 'web', '--json'])) as ZoneInfo;
    const r = await cli(['destroy', 'web']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('zone web is running; halt it first or destroy it with --force');
    expect(existsSync(`/proc/${pid}`)).toBe(true);
    await ok(['destroy', '-f', 'web']);
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(await list()).toEqual([]);
  });

  it('two concurrent boots of the same zone: one boots it, the other is told it runs', async () => {
    await ok(['create', 'twice', '--network', 'loopback', '--', '/bin/sleep', '60']);
    const [a, b] = await Promise.all([cli(['boot', 'twice']), cli(['boot', 'twice'])]);
    const codes = [a.code, b.code].sort();
    expect(codes, `${a.stderr}${b.stderr}`).toEqual([0, 1]);
    const loser = a.code === 1 ? a : b;
    expect(loser.stderr).toMatch(/zone twice is already running/);
    const running = (await list()).filter((z) => z.state === 'running');
    expect(running).toHaveLength(1);
    // Exactly one keeper serves it: the daemon's only shim child.
    const daemon = env.daemonPid()!;
    const keepers = execFileSync('pgrep', ['-P', String(daemon)]).toString().trim().split('\n')
      .filter((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('lxzone-shim'));
    expect(keepers).toHaveLength(1);
    const rec = JSON.parse(readFileSync(join(env.runtimeDir, 'zones', 'twice.json'), 'utf8')) as { keeperPid: number; initPid: number };
    expect(rec.initPid).toBe(running[0]!.pid);
  });

  it('a malformed config file on disk: list shows it broken, boot names the file, destroy removes it', async () => {
    await ok(['create', 'bad', '--network', 'none', '--', '/bin/true']);
    const file = join(env.stateDir, 'zones', 'bad', 'config.json');
    writeFileSync(file, '{"name": "bad", "rootfs": {"type": "dir"}, "init": "yes"');
    const [row] = await list();
    expect(row).toMatchObject({ name: 'bad', state: 'broken' });
    expect(row!.error).toContain(file);
    const r = await cli(['boot', 'bad']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`zone config "${file}"`);
    writeFileSync(file, JSON.stringify({ name: 'bad', rootfs: { type: 'dir' }, init: 'yes' }));
    const r2 = await cli(['boot', 'bad']);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/field "rootfs.*path/);
    expect(r2.stderr).toMatch(/field "init": must be boolean/);
    await ok(['destroy', 'bad']);
    expect(existsSync(join(env.stateDir, 'zones', 'bad'))).toBe(false);
  });

  it('create refuses bad extra rules, a taken static address and an existing name, leaving nothing', async () => {
    const cfg = join(env.base, 'rules.json');
    writeFileSync(cfg, JSON.stringify({ extraRules: [{ names: ['openat'], disposition: 'teleport' }] }));
    const r = await cli(['create', 'a', '--config', cfg]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/extraRules/);
    expect(r.stderr).toMatch(/disposition/);
    expect(env.store.list()).toEqual([]);

    await ok(['create', 'a', '--ip', `${env.net}50`, '--', '/bin/true']);
    const taken = await cli(['create', 'b', '--ip', `${env.net}50`, '--', '/bin/true']);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain(`address ${env.net}50 is already taken by zone a`);
    expect(env.store.list()).toEqual(['a']);
    const again = await cli(['create', 'a', '--', '/bin/true']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('zone a already exists');
    expect((await cli(['boot', 'nosuch'])).stderr).toContain('zone nosuch does not exist');
    expect((await cli(['halt', 'a'])).stderr).toContain('zone a is not running');
  });
});

describe('lxzone run --name', () => {
  it('keeps the zone: output until it stops, its exit status, then boot runs it again', async () => {
    const r = await cli(['run', '--name', 'a', '--network', 'none', '--', '/bin/sh', '-c', 'echo out; echo err >&2; hostname; exit 3']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toBe('out\na\n');
    expect(r.stderr).toBe('err\n');
    expect((await list()).map((z) => [z.name, z.state])).toEqual([['a', 'stopped']]);
    expect((await inspect('a')).config?.command).toEqual(['/bin/sh', '-c', 'echo out; echo err >&2; hostname; exit 3']);
    await ok(['boot', 'a']);
    await waitFor(async () => (await cli(['logs', 'a'])).stdout === 'out\na\nout\na\n');
    expect((await cli(['logs', 'a'])).stdout).toBe('out\na\nout\na\n');
    const again = await cli(['run', '--name', 'a', '--', '/bin/true']);
    expect(again.code).toBe(125); // lxzone failed, not the program (README: run's exit status)
    expect(again.stderr).toContain('zone a already exists');
    const tty = await cli(['run', '--name', 'b', '-t', '--', '/bin/true']);
    expect(tty.code).toBe(2);
    expect(tty.stderr).toContain('--tty cannot apply');
  });
});
