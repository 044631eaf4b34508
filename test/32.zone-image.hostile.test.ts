// Hostile and broken archives: each is refused (or neutralised) with an error
// naming the entry, nothing is written outside the destination, and a failed
// unpack leaves no directory behind.
import { gzipSync } from 'node:zlib';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { unpackImage } from '../src/zone/image/index.js';
import { LxzoneError } from '../src/errors.js';
import { makeTar, type TarEntry } from './support/handmade-tar.js';
import { describeUnless, rootOnly } from './support/skip.js';

const isRoot = process.getuid?.() === 0;

let dir: string;
let outside: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lxz-32h-'));
  outside = join(dir, 'outside');
  mkdirSync(outside);
  writeFileSync(join(outside, 'secret'), 'host secret');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function unpack(entries: TarEntry[] | Buffer, opts = {}) {
  const archive = join(dir, 'img.tar');
  writeFileSync(archive, Buffer.isBuffer(entries) ? entries : makeTar(entries));
  return unpackImage(archive, join(dir, 'root'), { idShift: null, ...opts });
}

function refused(entries: TarEntry[] | Buffer, opts = {}): LxzoneError {
  let err: unknown;
  try {
    unpack(entries, opts);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(LxzoneError);
  // Nothing left behind: no destination, no temp directory.
  expect(readdirSync(dir).sort()).toEqual(['img.tar', 'outside']);
  // Nothing written outside.
  expect(readdirSync(outside)).toEqual(['secret']);
  expect(readFileSync(join(outside, 'secret'), 'utf8')).toBe('host secret');
  return err as LxzoneError;
}

describe('hostile entries', () => {
  it('refuses path traversal', () => {
    const e = refused([{ path: 'ok', body: 'x' }, { path: '../outside/evil', body: 'x' }]);
    expect(e.message).toBe(`image ${join(dir, 'img.tar')}: entry "../outside/evil": contains a '..' component (path traversal)`);
    expect(refused([{ path: 'a/../../outside/evil', body: 'x' }]).message).toMatch(/path traversal/);
  });

  it('refuses absolute paths', () => {
    expect(refused([{ path: `${outside}/evil`, body: 'x' }]).message).toMatch(/: entry ".*outside\/evil": is an absolute path$/);
  });

  it('refuses writing through an absolute symlink', () => {
    const e = refused([
      { path: 'etc', type: 'SymbolicLink', linkpath: outside },
      { path: 'etc/passwd', body: 'root::0:0::/:/bin/sh\n' },
    ]);
    expect(e.message).toMatch(/entry "etc\/passwd": .*symbolic link/);
  });

  it('refuses writing through a chain of relative symlinks', () => {
    const e = refused([
      { path: 'a', type: 'SymbolicLink', linkpath: 'b' },
      { path: 'b', type: 'SymbolicLink', linkpath: '../outside' },
      { path: 'a/evil', body: 'x' },
    ]);
    expect(e.message).toMatch(/symbolic link/);
    expect(refused([
      { path: 'd', type: 'Directory' },
      { path: 'd/up', type: 'SymbolicLink', linkpath: '../..' },
      { path: 'd/up/outside/evil', body: 'x' },
    ]).message).toMatch(/symbolic link/);
  });

  it('replaces a symlink by a later file instead of writing through it', () => {
    unpack([
      { path: 'secret', type: 'SymbolicLink', linkpath: join(outside, 'secret') },
      { path: 'secret', body: 'zone data' },
    ]);
    expect(readFileSync(join(outside, 'secret'), 'utf8')).toBe('host secret');
    expect(readFileSync(join(dir, 'root/secret'), 'utf8')).toBe('zone data');
  });

  it('keeps absolute symlink targets verbatim for the zone', () => {
    unpack([
      { path: 'etc', type: 'Directory' },
      { path: 'etc/localtime', type: 'SymbolicLink', linkpath: '/usr/share/zoneinfo/UTC' },
      { path: 'lib', type: 'SymbolicLink', linkpath: 'usr/lib' },
      { path: 'up', type: 'SymbolicLink', linkpath: '../../..' },
    ]);
    expect(readlinkSync(join(dir, 'root/etc/localtime'))).toBe('/usr/share/zoneinfo/UTC');
    expect(readlinkSync(join(dir, 'root/lib'))).toBe('usr/lib');
    expect(readlinkSync(join(dir, 'root/up'))).toBe('../../..');
  });

  it('refuses hardlinks that leave the root or go through a symlink', () => {
    expect(refused([{ path: 'h', type: 'Link', linkpath: '../outside/secret' }]).message).toMatch(/entry "h": hardlink target "..\/outside\/secret": contains a '..' component/);
    expect(refused([{ path: 'h', type: 'Link', linkpath: `${outside}/secret` }]).message).toMatch(/is an absolute path/);
    expect(refused([
      { path: 'd', type: 'SymbolicLink', linkpath: outside },
      { path: 'h', type: 'Link', linkpath: 'd/secret' },
    ]).message).toMatch(/symbolic link/);
  });

  it('allows hardlinks inside the root', () => {
    unpack([{ path: 'a', body: 'same' }, { path: 'b', type: 'Link', linkpath: 'a' }]);
    expect(statSync(join(dir, 'root/a')).ino).toBe(statSync(join(dir, 'root/b')).ino);
  });

  it('skips device nodes and FIFOs with a warning', () => {
    const r = unpack([
      { path: 'dev', type: 'Directory' },
      { path: 'dev/mem', type: 'CharacterDevice' },
      { path: 'dev/sda', type: 'BlockDevice' },
      { path: 'fifo', type: 'FIFO' },
      { path: 'file', body: 'x' },
    ]);
    expect(r.warnings).toEqual([
      'entry "dev/mem": CharacterDevice skipped (zones get their own /dev)',
      'entry "dev/sda": BlockDevice skipped (zones get their own /dev)',
      'entry "fifo": FIFO skipped (zones get their own /dev)',
    ]);
    expect(readdirSync(join(dir, 'root/dev'))).toEqual([]);
    expect(existsSync(join(dir, 'root/file'))).toBe(true);
  });

  it('strips setuid and setgid bits unless asked to keep them, and keeps other modes exactly', () => {
    unpack([
      { path: 'su', body: '#!', mode: 0o4755 },
      { path: 'wall', body: '#!', mode: 0o2755 },
      { path: 'shared', body: 'x', mode: 0o666 },
      { path: 'ro', type: 'Directory', mode: 0o555 },
      { path: 'tmp', type: 'Directory', mode: 0o1777 },
    ]);
    const mode = (p: string) => lstatSync(join(dir, 'root', p)).mode & 0o7777;
    expect(mode('su')).toBe(0o755);
    expect(mode('wall')).toBe(0o755);
    expect(mode('shared')).toBe(0o666);
    expect(mode('ro')).toBe(0o555);
    expect(mode('tmp')).toBe(0o1777);
    expect(mode('.')).toBe(0o755);
    rmSync(join(dir, 'root'), { recursive: true });
    unpack([{ path: 'su', body: '#!', mode: 0o4755 }], { keepSetid: true });
    expect(mode('su')).toBe(0o4755);
  });

  it('refuses a hostile manifest that points a layer outside the archive', () => {
    const outer = makeTar([
      { path: 'manifest.json', body: JSON.stringify([{ Config: 'c.json', Layers: ['../../../etc/passwd'] }]) },
      { path: 'c.json', body: '{}' },
    ]);
    expect(refused(outer).message).toMatch(/reading its manifest: layer 0 "..\/..\/..\/etc\/passwd": contains a '..' component/);
  });
});

describe('broken archives', () => {
  const good: TarEntry[] = [
    { path: 'bin', type: 'Directory' },
    { path: 'bin/a', body: 'a'.repeat(3000) },
    { path: 'bin/b', body: 'b'.repeat(3000) },
  ];

  it('reports a truncated tar and leaves nothing behind', () => {
    const whole = makeTar(good);
    const e = refused(whole.subarray(0, 512 * 4));
    expect(e.message).toMatch(/truncated or corrupt archive/);
  });

  it('reports a truncated gzip stream', () => {
    const gz = gzipSync(makeTar(good));
    const e = refused(gz.subarray(0, gz.length - 40));
    expect(e.message).toMatch(/^image .*img.tar: /);
  });

  it('refuses garbage and a missing archive', () => {
    expect(refused(Buffer.from('this is not a tar file at all'.repeat(40))).message).toMatch(/: not a tar archive, or a corrupt one/);
    expect(() => unpackImage(join(dir, 'nope.tar'), join(dir, 'root'))).toThrow(/nope.tar: does not exist/);
  });

  it('never overwrites an existing destination', () => {
    mkdirSync(join(dir, 'root'));
    writeFileSync(join(dir, 'img.tar'), makeTar(good));
    expect(() => unpackImage(join(dir, 'img.tar'), join(dir, 'root'), { idShift: null })).toThrow(/destination .*root already exists/);
  });

  it('caps the unpacked size', () => {
    expect(refused(good, { maxBytes: 4000 }).message).toMatch(/entry "bin\/b": the image holds more than 4000 bytes/);
  });
});

describeUnless(rootOnly(), 'ownership shift', () => {
  it('maps the zone ids onto the host range and out-of-range ids to nobody', () => {
    const r = unpack(
      [
        { path: 'home/app', type: 'Directory', uid: 1000, gid: 1000 },
        { path: 'home/app/f', body: 'x', uid: 1000, gid: 100 },
        { path: 'root-file', body: 'x' },
        { path: 'big', body: 'x', uid: 70000, gid: 0 },
        { path: 'link', type: 'SymbolicLink', linkpath: '/nowhere', uid: 5, gid: 6 },
      ],
      { idShift: 100000 },
    );
    const own = (p: string) => {
      const st = lstatSync(join(dir, 'root', p));
      return [st.uid, st.gid];
    };
    expect(own('.')).toEqual([100000, 100000]);
    expect(own('home')).toEqual([100000, 100000]); // made by tar as a parent: the zone's root
    expect(own('home/app')).toEqual([101000, 101000]);
    expect(own('home/app/f')).toEqual([101000, 100100]);
    expect(own('root-file')).toEqual([100000, 100000]);
    expect(own('big')).toEqual([165534, 100000]);
    expect(own('link')).toEqual([100005, 100006]);
    expect(r.warnings).toEqual([`entry "big": uid 70000 is outside the zone's ids 0-65535; owned by nobody (65534) instead`]);
  });
});
