// The C++ parsers of lxzone's two binary inputs — the shim's config records
// (native/shim/config.cc) and the supervisor's dispatch table
// (native/supervisor/dispatch.cc) — and the mountinfo reader the shim and the
// supervisor share (native/common/mountinfo.h), fed through
// lxzone-parse-check, which links exactly those files: no root, no zone. What
// TypeScript encodes must come out field for field; malformed input must be
// refused naming the record, never half-applied.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compilePolicy, driverFilter, resolveProfile, utsServerFilter } from '../src/policy/index.js';
import { SHIM_CONFIG_KEYS } from '../src/seam.generated.js';
import { encodeShimConfig, type ShimConfig } from '../src/zone/shim-config.js';
import { repoRoot } from './support/zones.js';

const BIN = join(repoRoot, 'build', 'Release', 'lxzone-parse-check');

function parse(kind: 'config' | 'dispatch' | 'mountinfo', input: Buffer, args: string[] = []) {
  const r = spawnSync(BIN, [kind, ...args], { input });
  const out = r.stdout.toString();
  return r.status === 0 ? { ok: true as const, value: JSON.parse(out) } : { ok: false as const, status: r.status, error: out.trim() };
}

const base: ShimConfig = {
  argv: ['/bin/sh', '-c', 'echo "a b"; exit 3'],
  env: ['PATH=/usr/bin:/bin', 'EMPTY=', 'WITH=EQ=UALS'],
  rootfs: '/var/lib/lxzone/zones/web/rootfs',
  rootfsWritable: true,
  hostname: 'web',
  cwd: '/srv/app',
  idBase: 231072,
  idCount: 131072,
  uid: 1000,
  gid: 100,
  init: false,
  hold: true,
  dieWithParent: false,
  network: 'zone',
  tmpSize: '64m',
  binds: [{ host: '/data/in', zone: '/in', readOnly: true }, { host: '/data/out', zone: '/out', readOnly: false }],
  procBinds: [{ host: '/run/lxzone/lxcfs/proc/meminfo', zone: '/proc/meminfo', readOnly: true }],
  tmpfs: [{ target: '/run', sizeBytes: 8 * 1024 * 1024, mode: 0o755 }],
  hide: ['/var/lib/lxzone'],
  tty: true,
  system: true,
  cgroupProcs: ['/sys/fs/cgroup/lxzone/web/cgroup.procs'],
};

describe('shim config parser (native/shim/config.cc)', () => {
  it('reads back every field TypeScript encodes', () => {
    const r = parse('config', encodeShimConfig(base));
    expect(r.ok).toBe(true);
    expect(r.ok && r.value).toEqual({
      argv: base.argv, env: base.env, rootfs: base.rootfs, rootfsWritable: true, hostname: 'web', cwd: '/srv/app',
      idBase: 231072, idCount: 131072, uid: 1000, gid: 100, init: false, tty: true, system: true, network: 'zone', tmpSize: '64m',
      binds: ['/data/in -> /in ro', '/data/out -> /out rw'], procBinds: ['/run/lxzone/lxcfs/proc/meminfo -> /proc/meminfo ro'],
      tmpfs: ['/run size=8192k'], cgroupProcs: ['/sys/fs/cgroup/lxzone/web/cgroup.procs'], hide: ['/var/lib/lxzone'],
      serveDriverFilterBytes: 0, utsServerFilterBytes: 0,
    });
  });

  it('carries the FUSE drivers\' filter to a keeper that serves its zone (serve-driver-filter)', () => {
    const filter = driverFilter();
    const serve = { dispatch: compilePolicy({ profile: 'default', abis: ['x86_64'] }).dispatch, driverFilter: filter };
    const r = parse('config', encodeShimConfig({ ...base, serve }));
    expect(r.ok && r.value.serveDriverFilterBytes).toBe(filter.length);
    expect(filter.length).toBeGreaterThan(0);
  });

  it('carries lxzone-utsfs\'s filter to the keeper (uts-server-filter)', () => {
    const filter = utsServerFilter();
    const r = parse('config', encodeShimConfig({ ...base, utsServerFilter: filter }));
    expect(r.ok && r.value.utsServerFilterBytes).toBe(filter.length);
    expect(filter.length).toBeGreaterThan(0);
  });

  it('keeps arguments byte for byte (newlines, quotes, UTF-8, empty)', () => {
    const argv = ['/bin/echo', 'line1\nline2', '"quoted"', 'naïve ✓', ''];
    const r = parse('config', encodeShimConfig({ ...base, argv }));
    expect(r.ok && r.value.argv).toEqual(argv);
  });

  const records = (...rs: string[]) => Buffer.from(rs.map((x) => `${x}\0`).join(''));
  it.for([
    ['no version first', records('arg=/bin/sh', 'version=1'), /record 1 \(arg\): the first record must be version=1/],
    ['an unknown key', records('version=1', 'arg=/bin/true', 'privileged=1'), /record 3 \(privileged\): unknown key/],
    ['a relative rootfs', records('version=1', 'rootfs=var/zone'), /record 2 \(rootfs\).*absolute path/],
    ['a rootfs escaping with ..', records('version=1', 'rootfs=/var/../etc'), /record 2 \(rootfs\)/],
    ['a cwd escaping with ..', records('version=1', 'cwd=/srv/../../etc'), /record 2 \(cwd\)/],
    ['an env entry without =', records('version=1', 'env=PATH'), /record 2 \(env\): not NAME=VALUE/],
    ['an id count of 0', records('version=1', 'id-count=0'), /record 2 \(id-count\)/],
    ['a uid over 32 bits', records('version=1', 'uid=4294967296'), /record 2 \(uid\): not a number/],
    ['a negative gid', records('version=1', 'gid=-1'), /record 2 \(gid\): not a number/],
    ['a hostname over 64 bytes', records('version=1', `hostname=${'h'.repeat(65)}`), /record 2 \(hostname\): must be 1..64 bytes/],
    ['a cgroup file outside /sys/fs/cgroup', records('version=1', 'cgroup-procs=/etc/passwd'), /record 2 \(cgroup-procs\)/],
    ['a cgroup file escaping /sys/fs/cgroup', records('version=1', 'cgroup-procs=/sys/fs/cgroup/../../etc/x'), /record 2 \(cgroup-procs\)/],
    ['a join pid of 1', records('version=1', 'join-pid=1'), /record 2 \(join-pid\): not a pid/],
    ['a bind without a mode', records('version=1', 'bind=/a\x1f/b'), /record 2 \(bind\)/],
    ['a bind with a relative target', records('version=1', 'bind=/a\x1fb\x1fro'), /record 2 \(bind\)/],
    ['a tmpfs size with options smuggled in', records('version=1', 'tmp-size=64m,exec'), /record 2 \(tmp-size\): not a tmpfs size/],
    ['a tmpfs mode that is not octal', records('version=1', 'tmpfs=/run\x1f8m\x1f999'), /record 2 \(tmpfs\)/],
    ['a network mode it does not know', records('version=1', 'network=host'), /record 2 \(network\)/],
    ['a bool that is not 0 or 1', records('version=1', 'init=yes'), /record 2 \(init\): not 0 or 1/],
    ['a record without =', records('version=1', 'arg'), /record 2.*not key=value/],
    ['a driver filter that is not whole instructions', records('version=1', 'serve-driver-filter=00112233445566'), /record 2 \(serve-driver-filter\): not a seccomp filter/],
    ['a driver filter over 4096 instructions', records('version=1', `serve-driver-filter=${'00'.repeat(8 * 4097)}`), /record 2 \(serve-driver-filter\): not a seccomp filter/],
    ['a UTS server filter that is not whole instructions', records('version=1', 'uts-server-filter=0011223344556677aa'), /record 2 \(uts-server-filter\): not a seccomp filter/],
    ['an empty UTS server filter', records('version=1', 'uts-server-filter='), /record 2 \(uts-server-filter\): not a seccomp filter/],
    ['a UTS server filter that is not hex', records('version=1', `uts-server-filter=${'zz'.repeat(8)}`), /record 2 \(uts-server-filter\): not a seccomp filter/],
    ['a last record without its NUL', Buffer.from('version=1\0arg=/bin/sh'), /does not end with a NUL-terminated record/],
  ] as const)('refuses %s, naming the record', ([, input, message]) => {
    const r = parse('config', input);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(message);
  });

  it('reads every key of seam/facts.json shimConfig, and those only (the one list both sides take)', () => {
    // A value that may be wrong for the key: the parser must know the key (the
    // error, if any, is about the value), never call it unknown or unread.
    const unread: string[] = [];
    for (const key of SHIM_CONFIG_KEYS.filter((k) => k !== 'version')) {
      const r = parse('config', records('version=1', 'arg=/bin/true', `${key}=`));
      if (!r.ok && /unknown key|does not read/.test(r.error)) unread.push(`${key}: ${r.error}`);
    }
    expect(unread).toEqual([]);
    expect(SHIM_CONFIG_KEYS).not.toContain('privileged');
  });
});

describe('dispatch table parser (native/supervisor/dispatch.cc)', () => {
  const compiled = compilePolicy({ profile: 'default', abis: ['x86_64', 'i386'] });
  const nr = (abi: 'x86_64' | 'i386', name: string) => resolveProfile('default', abi).syscalls.find((s) => s.name === name)!.nr;

  it('routes each syscall of the compiled default profile to the handler the policy chose', () => {
    const probes = [`x86_64:${nr('x86_64', 'uname')}`, `x86_64:${nr('x86_64', 'sysinfo')}`, `x86_64:${nr('x86_64', 'read')}`,
      `i386:${nr('i386', 'uname')}`, 'x86_64:100000', 'x86_64:-1', 'aarch64:1'];
    const r = parse('dispatch', compiled.dispatch, probes);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.abis).toEqual(['x86_64', 'i386']);
    expect(r.value.unsupportedSigsys).toBe(false);
    // Handler ids: 2 uname, 3 sysinfo, 0 unsupported (a host syscall is never notified; beyond the table,
    // negative numbers and an ABI the table lacks: unsupported).
    expect(Object.values(r.value.handlers)).toEqual([2, 3, 0, 2, 0, 0, 0]);
    const strict = parse('dispatch', compilePolicy({ profile: 'strict', abis: ['x86_64'] }).dispatch);
    expect(strict.ok && strict.value.unsupportedSigsys).toBe(true);
  });

  const d = compiled.dispatch;
  const patched = (f: (b: Buffer) => void) => {
    const b = Buffer.from(d);
    f(b);
    return b;
  };
  it.for([
    ['a wrong magic', patched((b) => b.writeUInt32LE(0x12345678, 0))],
    ['an unknown version', patched((b) => b.writeUInt32LE(2, 4))],
    ['more ABIs than it holds', patched((b) => b.writeUInt32LE(9, 12))],
    ['a length past the end', patched((b) => b.writeUInt32LE(0x7fffffff, 20))],
    ['a handler id past the last handler', patched((b) => (b[24] = 200))],
    ['a truncated table', d.subarray(0, d.length - 3)],
    ['an empty input', Buffer.alloc(0)],
  ] as const)('refuses %s', ([, input]) => {
    const r = parse('dispatch', input);
    expect(r.ok).toBe(false);
  });
});

describe('mountinfo reader (native/common/mountinfo.h: the shim\'s host copies, the supervisor\'s ustat)', () => {
  it('reads id, parent, device, unescaped mount point and filesystem type, with or without optional fields', () => {
    const text = [
      '36 35 98:0 /mnt1 /mnt/a\\040b\\011c\\134d rw,noatime master:1 shared:2 - ext3 /dev/root rw,errors=continue',
      '37 36 0:51 / /run/user\\0121000 rw - tmpfs tmpfs rw',
      '38 36 259:7 / /media/x\\9zz ro,nosuid - fuse.sshfs host: rw',
      'not a mountinfo line',
      '39 36 0:52 / /no/dash rw shared:3',
      '',
    ].join('\n');
    const r = parse('mountinfo', Buffer.from(text));
    expect(r.ok && r.value).toEqual([
      { id: '36', parent: '35', dev: '98:0', point: '/mnt/a b\tc\\d', fstype: 'ext3' },
      { id: '37', parent: '36', dev: '0:51', point: '/run/user\n1000', fstype: 'tmpfs' },
      // A backslash not followed by three octal digits is kept as it is.
      { id: '38', parent: '36', dev: '259:7', point: '/media/x\\9zz', fstype: 'fuse.sshfs' },
    ]);
  });

  it('reads this host\'s own mountinfo line for line', () => {
    const text = readFileSync('/proc/self/mountinfo', 'utf8');
    const expected = text.split('\n').filter(Boolean).map((line) => {
      const f = line.split(' ');
      const dash = f.indexOf('-', 6);
      const point = f[4]!.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
      return { id: f[0], parent: f[1], dev: f[2], point, fstype: f[dash + 1] };
    });
    const r = parse('mountinfo', Buffer.from(text));
    expect(expected.length).toBeGreaterThan(3);
    expect(r.ok && r.value).toEqual(expected);
  });
});
