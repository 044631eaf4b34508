import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkHostPaths,
  parseZoneConfig,
  resolveInRoot,
  resolveUser,
} from '../src/zone/config/index.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lxz-30-'));
  mkdirSync(join(dir, 'real/sub'), { recursive: true });
  writeFileSync(join(dir, 'real/file'), 'x');
  writeFileSync(join(dir, 'img.tar'), '');
  symlinkSync(join(dir, 'real'), join(dir, 'link'));
  symlinkSync('/etc', join(dir, 'real/etc-link'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function check(extra: object): string | undefined {
  const cfg = parseZoneConfig({ name: 'web', rootfs: { type: 'host' }, ...extra }, 'web');
  try {
    checkHostPaths(cfg);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

describe('checkHostPaths()', () => {
  it('accepts existing real paths', () => {
    expect(check({ binds: [{ host: join(dir, 'real'), zone: '/data' }, { host: join(dir, 'real/file'), zone: '/f' }] })).toBeUndefined();
    expect(check({ rootfs: { type: 'dir', path: join(dir, 'real') } })).toBeUndefined();
    expect(check({ rootfs: { type: 'image', path: join(dir, 'img.tar') } })).toBeUndefined();
  });

  it('refuses a bind source that does not exist', () => {
    expect(check({ binds: [{ host: join(dir, 'nope'), zone: '/data' }] })).toBe(
      `zone config "web": field "binds[0].host": ${join(dir, 'nope')} does not exist`,
    );
  });

  it('refuses a bind source that is a symlink or goes through one', () => {
    expect(check({ binds: [{ host: join(dir, 'link'), zone: '/data' }] })).toBe(
      `zone config "web": field "binds[0].host": ${join(dir, 'link')} goes through a symlink (it resolves to ${join(dir, 'real')}); name the real path instead`,
    );
    expect(check({ binds: [{ host: join(dir, 'real'), zone: '/a' }, { host: join(dir, 'link/sub'), zone: '/b' }] })).toMatch(
      /field "binds\[1\].host": .*link\/sub goes through a symlink \(it resolves to .*real\/sub\)/,
    );
    expect(check({ binds: [{ host: join(dir, 'real/etc-link'), zone: '/etc' }] })).toMatch(/resolves to \/etc\)/);
  });

  it('checks the rootfs path and its kind', () => {
    expect(check({ rootfs: { type: 'dir', path: join(dir, 'link') } })).toMatch(/field "rootfs.path": .* goes through a symlink/);
    expect(check({ rootfs: { type: 'dir', path: join(dir, 'real/file') } })).toMatch(/field "rootfs.path": .* is not a directory/);
    // A directory may be an OCI image layout (create's import says if it is not one); a device is neither.
    expect(check({ rootfs: { type: 'image', path: join(dir, 'real') } })).toBeUndefined();
    expect(check({ rootfs: { type: 'image', path: '/dev/null' } })).toMatch(/field "rootfs.path": \/dev\/null is neither a regular file \(an image archive\) nor a directory \(an OCI image layout\)/);
    expect(check({ rootfs: { type: 'image', path: join(dir, 'gone.tar') } })).toMatch(/field "rootfs.path": .* does not exist/);
  });
});

describe('resolveInRoot() and resolveUser()', () => {
  let root: string;
  beforeAll(() => {
    root = join(dir, 'rootfs');
    mkdirSync(join(root, 'etc'), { recursive: true });
    mkdirSync(join(root, 'usr/share'), { recursive: true });
    writeFileSync(
      join(root, 'usr/share/passwd'),
      'root:x:0:0:root:/root:/bin/sh\n# comment\nwww-data:x:33:33:www:/var/www:/usr/sbin/nologin\napp:x:1000:1001::/home/app:/bin/sh\n',
    );
    // An absolute symlink inside the image means the image's /usr/share/passwd,
    // never the host's.
    symlinkSync('/usr/share/passwd', join(root, 'etc/passwd'));
    writeFileSync(join(root, 'etc/group'), 'root:x:0:\nstaff:x:50:app\n');
    symlinkSync('../../../../../../etc/hostname', join(root, 'escape'));
  });

  it('resolves symlinks inside the root, never outside', () => {
    expect(resolveInRoot(root, 'etc/passwd')).toBe(join(root, 'usr/share/passwd'));
    // ../ above the root stays at the root, as in a chroot.
    expect(() => resolveInRoot(root, 'escape')).toThrow(/does not exist/);
    expect(resolveInRoot(root, '/../../etc/group')).toBe(join(root, 'etc/group'));
  });

  it('looks names up in the zone’s own passwd and group files', () => {
    expect(resolveUser('www-data', root)).toEqual({ uid: 33, gid: 33, name: 'www-data', home: '/var/www', shell: '/usr/sbin/nologin' });
    expect(resolveUser('app:staff', root)).toMatchObject({ uid: 1000, gid: 50 });
    expect(resolveUser('1000', root)).toMatchObject({ uid: 1000, gid: 1001, name: 'app' });
    expect(resolveUser('4242', root)).toEqual({ uid: 4242, gid: 4242 });
    expect(resolveUser('4242:7', root)).toEqual({ uid: 4242, gid: 7 });
    expect(() => resolveUser('nobody', root)).toThrow(`user "nobody" not found in the zone's /etc/passwd`);
    expect(() => resolveUser('app:wheel', root)).toThrow(`group "wheel" not found in the zone's /etc/group`);
  });

  it('refuses ids outside the zone range even when passwd has them', () => {
    writeFileSync(join(root, 'etc/group'), 'big:x:70000:\n');
    expect(() => resolveUser('app:big', root)).toThrow(/gid 70000 is outside the zone's id range/);
  });
});
