import { describe, expect, it } from 'vitest';
import {
  LIMITS,
  assertZoneName,
  defaultZoneConfig,
  parseRestartPolicy,
  parseZoneConfig,
} from '../src/zone/config/index.js';
import { LxzoneError } from '../src/errors.js';

function err(value: unknown, source = 'web'): string {
  try {
    parseZoneConfig(value, source);
  } catch (e) {
    expect(e).toBeInstanceOf(LxzoneError);
    return (e as Error).message;
  }
  throw new Error('expected parseZoneConfig to throw');
}

const base = { name: 'web', rootfs: { type: 'host' } };

describe('parseZoneConfig()', () => {
  it('fills in the defaults of a minimal config', () => {
    expect(parseZoneConfig(base, 'web')).toEqual({
      name: 'web',
      rootfs: { type: 'host' },
      hostname: 'web',
      profile: 'default',
      extraRules: [],
      env: {},
      binds: [],
      tmpfs: [],
      init: true,
      restartPolicy: 'no',
    });
  });

  it('accepts JSON text and names the source when it is not JSON', () => {
    expect(parseZoneConfig(JSON.stringify(base), 'f.json').name).toBe('web');
    expect(err('{"name": "web",', '/var/lib/lxzone/zones/web/config.json')).toMatch(
      /^zone config "\/var\/lib\/lxzone\/zones\/web\/config.json": not valid JSON/,
    );
    expect(err('[]')).toBe('zone config "web": must be a JSON object');
  });

  it('does not modify the object it is given', () => {
    const input = { name: 'web', rootfs: { type: 'host' } };
    parseZoneConfig(input, 'web');
    expect(input).toEqual({ name: 'web', rootfs: { type: 'host' } });
  });

  it.each([
    ['a/b', 'must match ^[a-z0-9][a-z0-9_.-]{0,62}$'],
    ['..', `must match ^[a-z0-9][a-z0-9_.-]{0,62}$; field "name": must not contain '..'`],
    ['a..b', "must not contain '..'"],
    ['a\0b', 'must match ^[a-z0-9][a-z0-9_.-]{0,62}$'],
    ['x'.repeat(64), 'must match ^[a-z0-9][a-z0-9_.-]{0,62}$'],
    ['', 'must match ^[a-z0-9][a-z0-9_.-]{0,62}$'],
    ['Web', 'must match ^[a-z0-9][a-z0-9_.-]{0,62}$'],
  ])('refuses the name %j', (name, rule) => {
    expect(err({ ...base, name })).toBe(`zone config "web": field "name": ${rule}`);
    expect(() => assertZoneName(name)).toThrow(rule.replace('; field "name":', ';'));
  });

  it('accepts names up to 63 characters', () => {
    expect(parseZoneConfig({ ...base, name: 'a'.repeat(63) }, 'x').name).toHaveLength(63);
    expect(() => assertZoneName('db-1.prod_x')).not.toThrow();
  });

  it('names the missing and the unknown fields', () => {
    expect(err({ name: 'web' })).toBe('zone config "web": field "rootfs": is required');
    expect(err({ ...base, colour: 'red' })).toBe('zone config "web": field "colour": is not a known field');
    expect(err({ ...base, resources: { memory: 1 } })).toBe(
      'zone config "web": field "resources.memory": is not a known field',
    );
  });

  it('validates each rootfs variant', () => {
    expect(err({ name: 'web', rootfs: { type: 'disk' } })).toBe(
      'zone config "web": field "rootfs.type": must be one of: host, dir, image',
    );
    expect(err({ name: 'web', rootfs: { type: 'dir' } })).toBe('zone config "web": field "rootfs.path": is required');
    expect(err({ name: 'web', rootfs: { type: 'dir', path: 'srv/root' } })).toBe(
      'zone config "web": field "rootfs.path": must be an absolute path',
    );
    expect(err({ name: 'web', rootfs: { type: 'host', path: '/x' } })).toBe(
      'zone config "web": field "rootfs.path": is not a known field',
    );
    expect(err({ name: 'web', rootfs: { type: 'image', path: '/i.tar', format: 'zip' } })).toBe(
      'zone config "web": field "rootfs.format": must be one of: auto, rootfs, docker, oci',
    );
    const c = parseZoneConfig({ name: 'web', rootfs: { type: 'image', path: '/srv//img.tar', format: 'oci' } }, 'w');
    expect(c.rootfs).toEqual({ type: 'image', path: '/srv/img.tar', format: 'oci' });
  });

  it('checks host names against RFC 1123 and the 64-byte UTS limit', () => {
    for (const ok of ['a', 'web-1', 'a.b.c', 'x1.example.org', 'a'.repeat(63)]) {
      expect(parseZoneConfig({ ...base, hostname: ok }, 'w').hostname).toBe(ok);
    }
    for (const bad of ['-a', 'a-', 'a_b', 'a..b', '.a', 'a b', 'a'.repeat(64) + '.b', 'a'.repeat(64)]) {
      expect(err({ ...base, hostname: bad })).toMatch(/^zone config "web": field "hostname": must be /);
    }
  });

  it('derives a valid hostname from a name that is not one', () => {
    expect(parseZoneConfig({ ...base, name: 'my_zone' }, 'w').hostname).toBe('my-zone');
    expect(parseZoneConfig({ ...base, name: 'db.' }, 'w').hostname).toBe('db');
  });

  it('checks the kernel version string', () => {
    for (const ok of ['5.15.0', '4.19', '6.1.0-13-amd64', '5.10.0+lxzone']) {
      expect(parseZoneConfig({ ...base, kernelVersion: ok }, 'w').kernelVersion).toBe(ok);
    }
    for (const bad of ['', 'five', '5', '5.x', '5.15 0', '5.15.0\n', '1.2.' + 'x'.repeat(70)]) {
      expect(err({ ...base, kernelVersion: bad })).toMatch(/field "kernelVersion": must be /);
    }
  });

  it('keeps profile names from naming a path', () => {
    expect(err({ ...base, profile: '../../etc/shadow' })).toMatch(/field "profile": must be a profile name/);
    expect(parseZoneConfig({ ...base, profile: 'strict', extraRules: [{ syscall: 'x' }] }, 'w').extraRules).toHaveLength(1);
    expect(err({ ...base, extraRules: ['x'] })).toBe('zone config "web": field "extraRules[0]": must be object');
  });

  it('caps the environment in count, per entry and in total', () => {
    expect(err({ ...base, env: { 'A=B': '1' } })).toBe('zone config "web": field "env.A=B": is not a valid name');
    expect(err({ ...base, env: { A: 'x\0y' } })).toBe(
      'zone config "web": field "env.A": must not contain a NUL character',
    );
    expect(err({ ...base, env: { A: 1 } })).toBe('zone config "web": field "env.A": must be string');
    const many = Object.fromEntries(Array.from({ length: LIMITS.envMaxCount + 1 }, (_, i) => [`V${i}`, '']));
    expect(err({ ...base, env: many })).toBe(
      `zone config "web": field "env": must have at most ${LIMITS.envMaxCount} entries`,
    );
    expect(err({ ...base, env: { A: 'x'.repeat(LIMITS.envMaxEntryBytes) } })).toMatch(/field "env.A": must be at most/);
    // 16 values of 100000 bytes + names K0..K15 (38 bytes) + '=' and NUL each (32).
    const big = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`K${i}`, 'v'.repeat(100_000)]));
    expect(err({ ...base, env: big })).toMatch(/field "env": must total at most 1048576 bytes .* \(has 1600070\)/);
    // Multi-byte characters count in bytes, as execve counts them.
    const wide = Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`W${i}`, 'é'.repeat(60_000)]));
    expect(err({ ...base, env: wide })).toMatch(/field "env": must total at most/);
    expect(parseZoneConfig({ ...base, env: { PATH: '/bin', EMPTY: '' } }, 'w').env).toEqual({ PATH: '/bin', EMPTY: '' });
  });

  it('validates and normalises zone paths', () => {
    expect(parseZoneConfig({ ...base, cwd: '/srv//app/./' }, 'w').cwd).toBe('/srv/app');
    expect(err({ ...base, cwd: 'app' })).toBe('zone config "web": field "cwd": must be an absolute path');
    expect(err({ ...base, cwd: '/app/../..' })).toBe(
      `zone config "web": field "cwd": must not contain a '..' component`,
    );
  });

  it('validates the shape of binds and tmpfs mounts', () => {
    const c = parseZoneConfig(
      { ...base, binds: [{ host: '/tmp/', zone: '/data//x/' }], tmpfs: [{ path: '/run', sizeBytes: 65536, mode: 0o755 }] },
      'w',
    );
    expect(c.binds).toEqual([{ host: '/tmp', zone: '/data/x', readOnly: false }]);
    expect(c.tmpfs).toEqual([{ path: '/run', sizeBytes: 65536, mode: 0o755 }]);
    expect(err({ ...base, binds: [{ host: '/tmp', zone: '../etc' }] })).toMatch(
      /field "binds\[0\].zone": must be an absolute path; field "binds\[0\].zone": must not contain a '..' component/,
    );
    expect(err({ ...base, binds: [{ host: '/a/../b', zone: '/x' }] })).toBe(
      `zone config "web": field "binds[0].host": must not contain a '..' component`,
    );
    expect(err({ ...base, binds: [{ host: '/tmp', zone: '/x' }, { host: '/srv', zone: '/x/' }] })).toBe(
      'zone config "web": field "binds[1].zone": duplicates entry 0 (/x)',
    );
    expect(err({ ...base, binds: [{ host: '/tmp' }] })).toBe('zone config "web": field "binds[0].zone": is required');
    expect(err({ ...base, tmpfs: [{ path: '/run', sizeBytes: 100 }] })).toBe(
      'zone config "web": field "tmpfs[0].sizeBytes": must be >= 4096',
    );
  });

  it('validates user, restart policy, resources and network shapes', () => {
    for (const ok of ['0', '1000:1000', 'www-data', 'app:staff', '65535']) {
      expect(parseZoneConfig({ ...base, user: ok }, 'w').user).toBe(ok);
    }
    for (const bad of ['65536', 'root:', ':0', 'a:b:c', 'Root', '-1']) {
      expect(err({ ...base, user: bad })).toMatch(/field "user": must be uid\[:gid\]/);
    }
    for (const ok of ['no', 'always', 'unless-stopped', 'on-failure', 'on-failure:5']) {
      expect(parseZoneConfig({ ...base, restartPolicy: ok }, 'w').restartPolicy).toBe(ok);
    }
    expect(err({ ...base, restartPolicy: 'on-failure:0' })).toMatch(/field "restartPolicy": must be one of/);
    expect(err({ ...base, resources: { cpus: 0 } })).toBe('zone config "web": field "resources.cpus": must be > 0');
    expect(err({ ...base, resources: { pidsMax: 1.5 } })).toBe(
      'zone config "web": field "resources.pidsMax": must be integer',
    );
    expect(err({ ...base, network: { mode: 'bridge' } })).toBe(
      'zone config "web": field "network.mode": must be one of: none, loopback, zone',
    );
    expect(err({ ...base, network: { mode: 'loopback', address: '10.0.0.2/24' } })).toBe(
      'zone config "web": field "network.mode": must be "zone" when an address is given',
    );
    expect(err({ ...base, network: { mode: 'zone', address: '10.0.0.256' } })).toMatch(/field "network.address"/);
    expect(parseZoneConfig({ ...base, network: { mode: 'zone', address: '10.88.0.2/24' } }, 'w').network).toEqual({
      mode: 'zone',
      address: '10.88.0.2/24',
    });
  });

  it('reports every problem of a config at once', () => {
    const m = err({ name: 'a/b', rootfs: { type: 'host' }, init: 'yes', hostname: '_' });
    expect(m).toContain('field "name"');
    expect(m).toContain('field "init": must be boolean');
    expect(m).toContain('field "hostname"');
  });
});

describe('defaultZoneConfig()', () => {
  it('is a valid config that runs the host root', () => {
    const c = defaultZoneConfig('web');
    expect(c.rootfs).toEqual({ type: 'host' });
    expect(c.init).toBe(true);
    expect(parseZoneConfig(c, 'round trip')).toEqual(c);
  });
  it('validates overrides like a file', () => {
    expect(defaultZoneConfig('db', { init: false, env: { A: 'b' } })).toMatchObject({ name: 'db', init: false, env: { A: 'b' } });
    expect(() => defaultZoneConfig('db', { cwd: 'rel' })).toThrow('zone config "db": field "cwd": must be an absolute path');
    expect(() => defaultZoneConfig('../db')).toThrow('field "name"');
  });
});

describe('parseRestartPolicy()', () => {
  it('parses each form', () => {
    expect(parseRestartPolicy('no')).toEqual({ kind: 'no' });
    expect(parseRestartPolicy('on-failure')).toEqual({ kind: 'on-failure' });
    expect(parseRestartPolicy('on-failure:3')).toEqual({ kind: 'on-failure', maxRetries: 3 });
    expect(() => parseRestartPolicy('sometimes')).toThrow(/restart policy "sometimes"/);
  });
});
