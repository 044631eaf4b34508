// The daemon: zones outlive it (SIGKILL while zones run: a new daemon finds
// them and serves their syscalls again), it cleans up after zones that died
// while it was away, one daemon per runtime directory, and a socket other
// users cannot reach.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { vethNames } from '../src/zone/network/index.js';
import { execZone, startExecZone } from '../src/zone/lifecycle/api.js';
import { readProcStat } from '../src/zone/state/proc.js';
import type { ZoneInfo } from '../src/zone/lifecycle/types.js';
import { hostLinks, useLifecycleEnv, waitFor } from './support/lifecycle-env.js';
import { repoRoot } from './support/zones.js';

const env = useLifecycleEnv(81);
const { cli, ok, list } = env;
const byName = (zones: ZoneInfo[]) => Object.fromEntries(zones.map((z) => [z.name, z]));
const cgroupDir = (name: string) => join('/sys/fs/cgroup/memory', env.cgroupParent, name);

/** Exited (a daemon started on demand is reparented: it may linger as a zombie). */
function gone(pid: number): boolean {
  const st = readProcStat(pid);
  return st === undefined || st.state === 'Z';
}

function killDaemon(): number {
  const pid = env.daemonPid();
  expect(pid).toBeGreaterThan(0);
  process.kill(pid!, 'SIGKILL');
  return pid!;
}

describe('a daemon killed with SIGKILL while zones run', () => {
  it('is replaced by one that finds the zones running and serves them again', async () => {
    // "uname -r" is answered by the supervisor, or by the zone's keeper while no daemon serves it.
    await ok(['create', 'ticker', '--kernel-version', '9.9.9-lxz', '--', '/bin/sh', '-c', 'while true; do uname -r; sleep 0.2; done']);
    await ok(['create', 'quiet', '--network', 'loopback', '--', '/bin/sleep', '600']);
    await ok(['boot', 'ticker']);
    await ok(['boot', 'quiet']);
    const before = byName(await list());
    const log = join(env.stateDir, 'zones', 'ticker', 'logs', 'stdout.log');
    await waitFor(() => existsSync(log) && readFileSync(log, 'utf8').includes('9.9.9-lxz'));
    // A process exec'd into the zone, served by the daemon once it runs: it must outlive the daemon too.
    const execd = await startExecZone('ticker', { argv: ['/bin/sh', '-c', 'uname -r; while [ ! -e /tmp/go ]; do sleep 0.1; done; uname -r; echo done'], stdio: 'pipe' });

    const old = killDaemon();
    await waitFor(() => gone(old), 30_000);
    const lines = () => readFileSync(log, 'utf8').split('\n').filter(Boolean).length;
    // No daemon: the zone's keeper answers uname meanwhile, as the daemon would.
    const orphaned = lines();
    await waitFor(() => lines() > orphaned + 3, 30_000);
    expect(existsSync(`/proc/${before.ticker!.pid}`)).toBe(true);

    // Any verb brings a new daemon, which re-attaches.
    const after = byName(await list());
    expect(env.daemonPid()).not.toBe(old);
    for (const n of ['ticker', 'quiet']) {
      expect([after[n]!.state, after[n]!.pid, after[n]!.ipv4]).toEqual(['running', before[n]!.pid, before[n]!.ipv4]);
    }
    const resumed = lines();
    await waitFor(() => lines() > resumed + 3, 30_000);
    expect(lines()).toBeGreaterThan(resumed + 3);
    expect(readFileSync(log, 'utf8').trim().split('\n').every((l) => l === '9.9.9-lxz')).toBe(true);
    expect(readFileSync(join(env.stateDir, 'daemon.log'), 'utf8')).toMatch(/re-attached \[(quiet ticker|ticker quiet)\]/);
    expect(readFileSync(join(env.stateDir, 'daemon.log'), 'utf8')).toMatch(/zone ticker: exec'd process re-attached/);
    // The exec'd process goes on, its uname answered by the new daemon.
    await execZone('ticker', { argv: ['/bin/touch', '/tmp/go'], stdio: 'pipe' });
    const e = await execd.wait();
    expect([e.exitCode, e.stdout!.toString()]).toEqual([0, '9.9.9-lxz\n9.9.9-lxz\ndone\n']);

    // exec and halt still work on the re-attached zones.
    const r = await execZone('ticker', { argv: ['/bin/sh', '-c', 'uname -r; hostname'], stdio: 'pipe' });
    expect(r.stdout!.toString()).toBe('9.9.9-lxz\nticker\n');
    const halted = JSON.parse(await ok(['halt', 'ticker', '--json'])) as ZoneInfo;
    expect(halted.state).toBe('stopped');
    expect(halted.lastExit?.haltedByUs).toBe(true);
    expect(existsSync(`/proc/${before.ticker!.pid}`)).toBe(false);
    expect(existsSync(cgroupDir('ticker'))).toBe(false);
    expect(hostLinks()).not.toContain(vethNames(env.bridge.name, 'ticker').host);
    expect(byName(await list()).quiet!.state).toBe('running');
  });

  it('never stops a zone: past the re-attach timeout its keeper answers uname and sysinfo, charged to the zone; the next daemon takes it back', async () => {
    const saved = process.env.LXZONE_REATTACH_TIMEOUT;
    process.env.LXZONE_REATTACH_TIMEOUT = '1'; // what used to stop the zone, in seconds
    try {
      // glibc's physical pages are sysinfo(2)'s total: the zone's 64 MiB cap.
      const mem = `/usr/bin/python3 -c 'import os; print("mem", os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))'`;
      await ok(['create', 'orphan', '--network', 'loopback', '-m', '64m', '--kernel-version', '9.9.9-orph', '--', '/bin/sh', '-c', `while true; do uname -r; ${mem}; sleep 0.2; done`]);
      const booted = JSON.parse(await ok(['boot', 'orphan', '--json'])) as ZoneInfo;
      const rec = JSON.parse(readFileSync(join(env.runtimeDir, 'zones', 'orphan.json'), 'utf8')) as { keeperPid: number };
      const log = join(env.stateDir, 'zones', 'orphan', 'logs', 'stdout.log');
      const lines = () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []);
      await waitFor(() => lines().length > 2);
      const memoryCgroup = () => readFileSync(`/proc/${rec.keeperPid}/cgroup`, 'utf8').split('\n').find((l) => /:memory:/.test(l)) ?? '';
      expect(memoryCgroup()).not.toContain('/orphan');

      const old = killDaemon();
      await waitFor(() => gone(old), 30_000);
      await sleep(2500); // well past the re-attach timeout
      const at = lines().length;
      await waitFor(() => lines().length > at + 6, 30_000);
      const fresh = lines().slice(at);
      expect(fresh.filter((l) => l === '9.9.9-orph').length).toBeGreaterThanOrEqual(3);
      expect(fresh.filter((l) => l === 'mem 67108864').length).toBeGreaterThanOrEqual(3);
      expect(fresh.every((l) => l === '9.9.9-orph' || l === 'mem 67108864')).toBe(true);
      // The keeper's work for the zone is the zone's: it sits in the zone's cgroup meanwhile.
      expect(memoryCgroup()).toContain(`${env.cgroupParent}/orphan`);

      // A new daemon takes it back: same init, served again, and the keeper goes home.
      const back = byName(await list()).orphan!;
      expect([back.state, back.pid]).toEqual(['running', booted.pid]);
      await waitFor(() => !memoryCgroup().includes('/orphan'), 10_000);
      const r = await execZone('orphan', { argv: ['/bin/sh', '-c', 'uname -r'], stdio: 'pipe' });
      expect(r.stdout!.toString()).toBe('9.9.9-orph\n');
      expect((JSON.parse(await ok(['halt', 'orphan', '--json'])) as ZoneInfo).state).toBe('stopped');
    } finally {
      if (saved === undefined) delete process.env.LXZONE_REATTACH_TIMEOUT;
      else process.env.LXZONE_REATTACH_TIMEOUT = saved;
    }
  });

  it('a zone that died while no daemon ran is found stopped, its cgroup and veth removed', async () => {
    await ok(['create', 'lost', '--', '/bin/sleep', '600']);
    const { pid } = JSON.parse(await ok(['boot', 'lost', '--json'])) as ZoneInfo;
    const rec = JSON.parse(readFileSync(join(env.runtimeDir, 'zones', 'lost.json'), 'utf8')) as { keeperPid: number };
    expect(existsSync(cgroupDir('lost'))).toBe(true);
    expect(hostLinks()).toContain(vethNames(env.bridge.name, 'lost').host);
    killDaemon();
    process.kill(rec.keeperPid, 'SIGKILL'); // the keeper's zone dies with it
    await waitFor(() => !existsSync(`/proc/${pid}`), 30_000);
    const [z] = await list();
    expect(z).toMatchObject({ name: 'lost', state: 'stopped' });
    expect(z!.lastExit?.error).toMatch(/no daemon/);
    expect(existsSync(cgroupDir('lost'))).toBe(false);
    expect(hostLinks()).not.toContain(vethNames(env.bridge.name, 'lost').host);
    expect(existsSync(join(env.runtimeDir, 'zones', 'lost.json'))).toBe(false);
    // It boots again, with its address.
    const again = JSON.parse(await ok(['boot', 'lost', '--json'])) as ZoneInfo;
    expect(again.state).toBe('running');
    expect(again.ipv4).toBe(z!.ipv4);
  });
});

describe('the daemon itself', () => {
  it('keeps other users out: 0600 socket in a 0700 directory', async () => {
    await ok(['list']);
    const sock = join(env.runtimeDir, 'daemon.sock');
    expect(statSync(sock).mode & 0o777).toBe(0o600);
    expect(statSync(env.runtimeDir).mode & 0o777).toBe(0o700);
    const js = `require('net').connect(${JSON.stringify(sock)}).on('connect',()=>{console.log('connected');process.exit(0)}).on('error',e=>{console.log(e.code);process.exit(0)})`;
    const out = execFileSync('runuser', ['-u', 'nobody', '--', process.execPath, '-e', js], { cwd: '/tmp' }).toString().trim();
    expect(out).toBe('EACCES');
  });

  it('one daemon per runtime directory: a second one says who serves it', async () => {
    await ok(['list']);
    const pid = env.daemonPid();
    const r = await cli(['daemon']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`another lxzone daemon already serves ${env.runtimeDir} (pid ${pid})`);
  });

  it('answers malformed and unknown requests with errors, and goes on serving', async () => {
    await ok(['list']);
    const sock = connect(join(env.runtimeDir, 'daemon.sock'));
    const answers: string[] = [];
    sock.setEncoding('utf8').on('data', (d: string) => answers.push(...d.split('\n').filter(Boolean)));
    await new Promise((r) => sock.once('connect', r));
    sock.write('this is not json\n');
    sock.write(`${JSON.stringify({ id: 7, method: 'format-disk' })}\n`);
    sock.write(`${JSON.stringify({ id: 8, method: 'boot', params: { name: '../../etc' } })}\n`);
    sock.write(`${JSON.stringify({ id: 9, method: 'ping' })}\n`);
    await waitFor(() => answers.length >= 4, 30_000);
    sock.end();
    const byId = Object.fromEntries(answers.map((a) => JSON.parse(a) as { id: number }).map((a) => [a.id, a]));
    expect(byId[-1]).toMatchObject({ error: { message: 'request is not valid JSON' } });
    expect(byId[7]).toMatchObject({ error: { message: 'unknown method "format-disk"' } });
    expect(JSON.stringify(byId[8])).toMatch(/zone name .*\.\.\/\.\.\/etc/);
    expect(byId[9]).toMatchObject({ result: { pid: env.daemonPid() } });
  });

  it('is started on demand and stopped by `daemon stop`, leaving zones for the next one', async () => {
    await ok(['create', 'stay', '--network', 'loopback', '--', '/bin/sleep', '600']);
    const { pid } = JSON.parse(await ok(['boot', 'stay', '--json'])) as ZoneInfo;
    const d = env.daemonPid();
    expect(await ok(['daemon', 'stop'])).toBe('stopped\n');
    await waitFor(() => env.daemonPid() === undefined, 30_000);
    expect(gone(d!)).toBe(true);
    expect(existsSync(`/proc/${pid}`)).toBe(true);
    expect(byName(await list()).stay).toMatchObject({ state: 'running', pid });
  });
});

it('the daemon runs from a service manager in the foreground', async () => {
  // `lxzone daemon` is what a unit file runs; a started one serves the CLI.
  await cli(['daemon', 'stop']);
  await waitFor(() => env.daemonPid() === undefined, 30_000);
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test/support/cli-entry.ts'), 'daemon'], { cwd: repoRoot, stdio: 'ignore' });
  try {
    await waitFor(() => env.daemonPid() === child.pid, 60_000);
    expect(env.daemonPid()).toBe(child.pid);
    expect(await ok(['list'])).toContain('NAME');
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(0);
  } finally {
    child.kill('SIGKILL');
  }
});
