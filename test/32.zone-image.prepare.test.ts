import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync, readdirSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { prepareZoneRootfs, zoneProcess } from '../src/zone/image/index.js';
import { ZoneStore } from '../src/zone/state/index.js';
import { defaultZoneConfig } from '../src/zone/config/index.js';

let dir: string;
let store: ZoneStore;
let archive: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lxz-32p-'));
  store = new ZoneStore({ stateDir: join(dir, 'state'), runtimeDir: join(dir, 'run') });
  const src = join(dir, 'src');
  mkdirSync(join(src, 'etc'), { recursive: true });
  writeFileSync(join(src, 'etc/hostname'), 'img\n');
  archive = join(dir, 'img.tar');
  tar.c({ file: archive, cwd: src, sync: true, portable: true }, ['.']);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('prepareZoneRootfs()', () => {
  it('passes the host root and directories through', () => {
    expect(prepareZoneRootfs(store, defaultZoneConfig('h'))).toEqual({ warnings: [] });
    expect(prepareZoneRootfs(store, defaultZoneConfig('d', { rootfs: { type: 'dir', path: join(dir, 'src') } })).rootfs).toBe(join(dir, 'src'));
  });

  it('refuses a directory rootfs that vanished', () => {
    const cfg = defaultZoneConfig('d', { rootfs: { type: 'dir', path: join(dir, 'gone') } });
    expect(() => prepareZoneRootfs(store, cfg)).toThrow(`zone config "d": field "rootfs.path": ${join(dir, 'gone')} does not exist`);
  });

  it('unpacks an image once, then reuses it; redoes an interrupted unpack', () => {
    const cfg = store.saveConfig(defaultZoneConfig('web', { rootfs: { type: 'image', path: archive } }));
    const first = prepareZoneRootfs(store, cfg, { idShift: null });
    const rootfs = store.paths('web').rootfsDir;
    expect(first.rootfs).toBe(rootfs);
    expect(existsSync(join(rootfs, 'etc/hostname'))).toBe(true);
    writeFileSync(join(rootfs, 'marker'), 'written by the zone');
    expect(prepareZoneRootfs(store, cfg, { idShift: null }).rootfs).toBe(rootfs);
    expect(existsSync(join(rootfs, 'marker'))).toBe(true); // not unpacked again
    // Crash between the rename and image.json: the rootfs is unpacked again.
    unlinkSync(join(store.paths('web').zoneDir, 'image.json'));
    prepareZoneRootfs(store, cfg, { idShift: null });
    expect(existsSync(join(rootfs, 'marker'))).toBe(false);
    expect(existsSync(join(rootfs, 'etc/hostname'))).toBe(true);
    expect(readdirSync(store.paths('web').zoneDir).sort()).toEqual(['config.json', 'image.json', 'rootfs']);
    store.remove('web');
    expect(existsSync(store.paths('web').zoneDir)).toBe(false);
  });
});

describe('zoneProcess()', () => {
  const image = { env: { PATH: '/usr/bin', A: 'image' }, entrypoint: ['/entry'], cmd: ['--serve'], workingDir: '/app', user: 'app' };
  it('takes the image defaults under the config', () => {
    expect(zoneProcess(defaultZoneConfig('z', { env: { A: 'zone' } }), image)).toEqual({
      argv: ['/entry', '--serve'],
      env: { PATH: '/usr/bin', A: 'zone' },
      cwd: '/app',
      user: 'app',
    });
    expect(zoneProcess(defaultZoneConfig('z', { command: ['/bin/true'], cwd: '/', user: '0' }), image)).toMatchObject({
      argv: ['/bin/true'],
      cwd: '/',
      user: '0',
    });
    expect(zoneProcess(defaultZoneConfig('z'))).toEqual({ argv: ['/bin/sh'], env: {}, cwd: '/' });
  });
});
