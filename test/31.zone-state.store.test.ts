import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ZoneStore,
  defaultPaths,
  ensurePrivateDir,
  isAlive,
  processIdentity,
  readProcStat,
  writeFileAtomic,
} from '../src/zone/state/index.js';
import { defaultZoneConfig } from '../src/zone/config/index.js';

let dir: string;
let store: ZoneStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lxz-31-'));
  store = new ZoneStore({ stateDir: join(dir, 'state'), runtimeDir: join(dir, 'run') });
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('defaultPaths()', () => {
  it('uses /var/lib and /run for root', () => {
    expect(defaultPaths({}, 0)).toEqual({ stateDir: '/var/lib/lxzone', runtimeDir: '/run/lxzone' });
  });
  it('uses the XDG directories for other users', () => {
    expect(defaultPaths({ HOME: '/home/u', XDG_RUNTIME_DIR: '/run/user/1000' }, 1000)).toEqual({
      stateDir: '/home/u/.local/share/lxzone',
      runtimeDir: '/run/user/1000/lxzone',
    });
    expect(defaultPaths({ HOME: '/home/u', XDG_DATA_HOME: '/data' }, 1000)).toEqual({
      stateDir: '/data/lxzone',
      runtimeDir: '/tmp/lxzone-1000',
    });
  });
  it('lets LXZONE_STATE_DIR and LXZONE_RUNTIME_DIR override, if absolute', () => {
    expect(defaultPaths({ LXZONE_STATE_DIR: '/s', LXZONE_RUNTIME_DIR: '/r' }, 0)).toEqual({ stateDir: '/s', runtimeDir: '/r' });
    expect(defaultPaths({ LXZONE_STATE_DIR: 'rel' }, 0).stateDir).toBe('/var/lib/lxzone');
    expect(new ZoneStore({ env: { LXZONE_STATE_DIR: '/s', LXZONE_RUNTIME_DIR: '/r' } }).runtimeDir).toBe('/r');
  });
});

describe('ensurePrivateDir()', () => {
  it('creates a 0700 directory and refuses a symlink in its place', () => {
    ensurePrivateDir(join(dir, 'p/q'));
    expect(lstatSync(join(dir, 'p/q')).mode & 0o777).toBe(0o700);
    symlinkSync(join(dir, 'p/q'), join(dir, 'evil'));
    expect(() => ensurePrivateDir(join(dir, 'evil'))).toThrow(/is not a directory \(a symlink\?\)/);
  });
});

describe('ZoneStore configs', () => {
  it('saves, lists, loads and removes zones', () => {
    store.saveConfig(defaultZoneConfig('web', { env: { A: '1' } }), { create: true });
    store.saveConfig(defaultZoneConfig('db'), { create: true });
    expect(store.list()).toEqual(['db', 'web']);
    expect(store.loadConfig('web').env).toEqual({ A: '1' });
    expect(lstatSync(store.paths('web').configFile).mode & 0o777).toBe(0o600);
    expect(() => store.saveConfig(defaultZoneConfig('web'), { create: true })).toThrow('zone web already exists');
    store.remove('web');
    expect(store.list()).toEqual(['db']);
    expect(readdirSync(join(store.stateDir, 'zones'))).toEqual(['db']);
    expect(() => store.loadConfig('web')).toThrow('zone web does not exist');
  });

  it('refuses names that would leave the state directory', () => {
    expect(() => store.paths('../etc')).toThrow(/zone name "..\/etc"/);
    expect(() => store.loadConfig('a/b')).toThrow(/zone name "a\/b"/);
  });

  it('names the file when a config on disk is malformed', () => {
    store.saveConfig(defaultZoneConfig('web'));
    const file = store.paths('web').configFile;
    writeFileSync(file, '{"name": "web", "rootfs": ');
    expect(() => store.loadConfig('web')).toThrow(`zone config "${file}": not valid JSON`);
    writeFileSync(file, JSON.stringify({ name: 'web', rootfs: { type: 'host' }, init: 'sometimes' }));
    expect(() => store.loadConfig('web')).toThrow(`zone config "${file}": field "init": must be boolean`);
    writeFileSync(file, JSON.stringify({ name: 'other', rootfs: { type: 'host' } }));
    expect(() => store.loadConfig('web')).toThrow(`zone config "${file}": field "name": is "other" but the file belongs to zone "web"`);
  });

  it('ignores directories without a config and temp files of dead writers', () => {
    mkdirSync(join(store.stateDir, 'zones', 'half'), { recursive: true });
    store.saveConfig(defaultZoneConfig('web'));
    const stray = join(store.paths('web').zoneDir, '.config.json.tmp-999999999-abcd');
    writeFileSync(stray, 'partial');
    expect(store.list()).toEqual(['web']);
    store.saveConfig(defaultZoneConfig('web', { init: false }));
    expect(existsSync(stray)).toBe(false);
    expect(store.loadConfig('web').init).toBe(false);
  });
});

describe('writeFileAtomic()', () => {
  it('replaces the file and leaves no temp file behind', () => {
    const f = join(dir, 'f.json');
    writeFileAtomic(f, 'one');
    writeFileAtomic(f, 'two');
    expect(readFileSync(f, 'utf8')).toBe('two');
    expect(readdirSync(dir)).toEqual(['f.json']);
  });
  it('creates exclusively when asked: the second creator fails', () => {
    const f = join(dir, 'c.json');
    writeFileAtomic(f, 'first', 0o600, true);
    expect(() => writeFileAtomic(f, 'second', 0o600, true)).toThrow(`cannot write ${f}: it already exists`);
    expect(readFileSync(f, 'utf8')).toBe('first');
    expect(readdirSync(dir)).toEqual(['c.json']);
  });

  it('fails cleanly when the directory is missing', () => {
    expect(() => writeFileAtomic(join(dir, 'no/f'), 'x')).toThrow(/cannot write .*no\/f: ENOENT/);
  });
});

describe('process identity', () => {
  it('reads the start time from /proc/PID/stat', () => {
    const me = processIdentity();
    expect(me.pid).toBe(process.pid);
    expect(me.startTime).toBeGreaterThan(0);
    expect(isAlive(me)).toBe(true);
  });

  it('parses a command name with spaces and parentheses', async () => {
    const copy = join(dir, 'a) b (c');
    writeFileSync(copy, readFileSync('/bin/sleep'), { mode: 0o755 });
    const child = spawn(copy, ['5']);
    await new Promise((r) => child.once('spawn', r));
    try {
      const st = readProcStat(child.pid as number);
      expect(st?.comm).toBe('a) b (c');
      expect(st?.ppid).toBe(process.pid);
      expect(st?.startTime).toBeGreaterThanOrEqual(processIdentity().startTime);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('defeats pid reuse, stale boots, dead and zombie processes', () => {
    const me = processIdentity();
    expect(isAlive({ ...me, startTime: me.startTime + 1 })).toBe(false); // same pid, another process
    expect(isAlive({ ...me, bootId: '00000000-0000-0000-0000-000000000000' })).toBe(false);
    const done = spawnSync('true');
    expect(isAlive({ pid: done.pid as number, startTime: 1 })).toBe(false);
    expect(isAlive({ pid: 4194304 + 1, startTime: 1 })).toBe(false);
  });

  it('treats a zombie as dead', async () => {
    // sh forks `sleep 0` then execs a sleep that never reaps it: a zombie.
    const child = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 10'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const pid = Number(await new Promise<string>((r) => child.stdout.once('data', (d) => r(String(d)))));
    try {
      for (let i = 0; i < 100 && readProcStat(pid)?.state !== 'Z'; i++) await new Promise((r) => setTimeout(r, 20));
      const st = readProcStat(pid);
      expect(st?.state).toBe('Z');
      expect(isAlive({ pid, startTime: st?.startTime as number })).toBe(false);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('ZoneStore runtime records', () => {
  it('round-trips a record with the process identity', () => {
    const rec = store.writeRuntime({ name: 'web', pid: process.pid, keeperPid: 42 });
    expect(rec).toMatchObject({ version: 1, name: 'web', pid: process.pid, keeperPid: 42 });
    expect(rec.startTime).toBe(processIdentity().startTime);
    expect(store.readRuntime('web')).toEqual(rec);
    expect(store.liveRuntime('web')).toEqual(rec);
  });

  it('drops the record of a zone whose process is gone', () => {
    const me = processIdentity();
    store.writeRuntime({ name: 'web', pid: process.pid, startTime: me.startTime - 1 });
    expect(store.readRuntime('web')).toBeDefined();
    expect(store.liveRuntime('web')).toBeUndefined();
    expect(store.readRuntime('web')).toBeUndefined();
  });

  it('names the file when a record is malformed', () => {
    store.writeRuntime({ name: 'web', pid: process.pid });
    const f = store.paths('web').runtimeFile;
    writeFileSync(f, '{"version":1,"name":"web","pid":"12"}');
    expect(() => store.readRuntime('web')).toThrow(`runtime record "${f}": field "startTime": is required; field "bootId": is required; field "startedAt": is required; field "pid": must be integer`);
    writeFileSync(f, 'garbage');
    expect(() => store.readRuntime('web')).toThrow(`runtime record "${f}": not valid JSON`);
  });
});
