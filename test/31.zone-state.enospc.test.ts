// A full disk under the state directory: the write fails with a clear error
// and the previous state stays readable and intact.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ZoneStore } from '../src/zone/state/index.js';
import { defaultZoneConfig } from '../src/zone/config/index.js';
import { LxzoneError } from '../src/errors.js';
import { describeUnless, rootOnly } from './support/skip.js';

const isRoot = process.getuid?.() === 0;
let dir: string;
let mnt: string;

beforeAll(() => {
  if (!isRoot) return;
  dir = mkdtempSync(join(tmpdir(), 'lxz-31n-'));
  mnt = join(dir, 'small');
  mkdirSync(mnt);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]);
});
afterAll(() => {
  if (!isRoot) return;
  execFileSync('umount', [mnt]);
  rmSync(dir, { recursive: true, force: true });
});

describeUnless(rootOnly(), 'state on a full disk', () => {
  it('keeps the previous config and runtime record when a write hits ENOSPC', () => {
    const store = new ZoneStore({ stateDir: join(mnt, 'state'), runtimeDir: join(mnt, 'run') });
    store.saveConfig(defaultZoneConfig('web', { env: { VERSION: '1' } }));
    const rec = store.writeRuntime({ name: 'web', pid: process.pid });
    const before = readFileSync(store.paths('web').configFile, 'utf8');

    // Fill the filesystem up to the last few blocks.
    let n = 0;
    try {
      for (;;) writeFileSync(join(mnt, `fill${n++}`), Buffer.alloc(4096));
    } catch (e) {
      expect((e as NodeJS.ErrnoException).code).toBe('ENOSPC');
    }

    // A config bigger than what is left.
    const big = defaultZoneConfig('web', { env: { VERSION: '2', PAD: 'x'.repeat(32 * 1024) } });
    let err: unknown;
    try {
      store.saveConfig(big);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LxzoneError);
    expect((err as LxzoneError).code).toBe('ENOSPC');
    expect((err as LxzoneError).message).toBe(
      `cannot write ${store.paths('web').configFile}: no space left on the device (the previous version is kept)`,
    );
    expect(readFileSync(store.paths('web').configFile, 'utf8')).toBe(before);
    expect(store.loadConfig('web').env).toEqual({ VERSION: '1' });
    expect(readdirSync(store.paths('web').zoneDir)).toEqual(['config.json']);

    expect(() => store.writeRuntime({ name: 'web', pid: process.pid, pad: 'y'.repeat(32 * 1024) })).toThrow(/no space left/);
    expect(store.readRuntime('web')).toEqual(rec);
    expect(readdirSync(join(store.runtimeDir, 'zones'))).toEqual(['web.json']);

    // Once space is back, writes work again.
    for (let i = 0; i < n; i++) rmSync(join(mnt, `fill${i}`), { force: true });
    store.saveConfig(big);
    expect(store.loadConfig('web').env.VERSION).toBe('2');
  });
});
