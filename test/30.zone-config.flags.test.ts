import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TMPFS_BYTES,
  applyZoneFlags,
  parseEnvFlag,
  parseEnvFlags,
  parseRestartFlag,
  parseSize,
  parseTmpfsFlag,
  parseUserFlag,
  parseVolumeFlag,
  parseZoneConfig,
} from '../src/zone/config/index.js';
import { LxzoneError } from '../src/errors.js';

function usageError(fn: () => unknown): LxzoneError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(LxzoneError);
    expect((e as LxzoneError).exitCode).toBe(2);
    return e as LxzoneError;
  }
  throw new Error('expected a usage error');
}

describe('-e', () => {
  it('parses KEY=VALUE and passes KEY through from the caller', () => {
    expect(parseEnvFlag('A=b=c')).toEqual(['A', 'b=c']);
    expect(parseEnvFlag('A=')).toEqual(['A', '']);
    expect(parseEnvFlag('HOME', { HOME: '/root' })).toEqual(['HOME', '/root']);
    expect(parseEnvFlag('UNSET_XYZ', {})).toBeUndefined();
    expect(usageError(() => parseEnvFlag('=x')).message).toBe('option -e "=x": the variable name is empty');
    expect(parseEnvFlags(['A=1', 'B=2', 'A=3', 'C'], { Z: 'z' }, { C: 'c' })).toEqual({ Z: 'z', A: '3', B: '2', C: 'c' });
  });
});

describe('-v', () => {
  it('parses host:zone[:ro|rw]', () => {
    expect(parseVolumeFlag('/srv/data:/data')).toEqual({ host: '/srv/data', zone: '/data', readOnly: false });
    expect(parseVolumeFlag('/srv/data/:/data/:ro')).toEqual({ host: '/srv/data', zone: '/data', readOnly: true });
    expect(parseVolumeFlag('/a:/b:rw').readOnly).toBe(false);
  });
  it('refuses what it cannot read unambiguously', () => {
    expect(usageError(() => parseVolumeFlag('data:/data')).message).toBe(
      'option -v "data:/data": host path "data" must be absolute',
    );
    expect(usageError(() => parseVolumeFlag('/a:b')).message).toMatch(/zone path "b" must be absolute/);
    expect(usageError(() => parseVolumeFlag('/a:/b:rx')).message).toMatch(/unknown mode "rx"/);
    expect(usageError(() => parseVolumeFlag('/a:/b:/c:ro')).message).toMatch(/must be HOST:ZONE\[:ro\]/);
    expect(usageError(() => parseVolumeFlag('/a')).message).toMatch(/must be HOST:ZONE\[:ro\]/);
    expect(usageError(() => parseVolumeFlag('/a:/x/../../etc')).message).toMatch(/must not contain '\.\.'/);
  });
});

describe('--user, --tmpfs, --restart, sizes', () => {
  it('checks --user like the schema', () => {
    expect(parseUserFlag('1000:1000')).toBe('1000:1000');
    expect(parseUserFlag('www-data')).toBe('www-data');
    expect(usageError(() => parseUserFlag('70000')).message).toMatch(/must be uid\[:gid\]/);
  });
  it('parses sizes with docker units', () => {
    expect(parseSize('4096')).toBe(4096);
    expect(parseSize('64m')).toBe(64 * 1024 * 1024);
    expect(parseSize('1.5g')).toBe(1.5 * 1024 ** 3);
    expect(parseSize('512KiB')).toBe(512 * 1024);
    expect(() => parseSize('lots')).toThrow(/size "lots"/);
  });
  it('parses --tmpfs path[:size=..,mode=..]', () => {
    expect(parseTmpfsFlag('/run')).toEqual({ path: '/run', sizeBytes: DEFAULT_TMPFS_BYTES });
    expect(parseTmpfsFlag('/tmp/:size=1m,mode=1777')).toEqual({ path: '/tmp', sizeBytes: 1048576, mode: 0o1777 });
    expect(usageError(() => parseTmpfsFlag('/run:exec')).message).toMatch(/unknown option "exec"/);
    expect(usageError(() => parseTmpfsFlag('run')).message).toMatch(/must be absolute/);
  });
  it('checks --restart', () => {
    expect(parseRestartFlag('on-failure:3')).toBe('on-failure:3');
    expect(usageError(() => parseRestartFlag('never')).message).toMatch(/must be no, on-failure/);
  });
});

describe('applyZoneFlags()', () => {
  it('builds a config the schema accepts', () => {
    const partial = applyZoneFlags(
      { rootfs: { type: 'host' }, env: { PATH: '/bin' } },
      { env: ['A=1'], volume: ['/tmp:/data:ro'], user: '1000', workdir: '/data', hostname: 'box', tmpfs: ['/run:size=1m'], restart: 'always' },
      {},
    );
    const cfg = parseZoneConfig({ ...partial, name: 'web' }, 'command line');
    expect(cfg).toMatchObject({
      env: { PATH: '/bin', A: '1' },
      binds: [{ host: '/tmp', zone: '/data', readOnly: true }],
      user: '1000',
      cwd: '/data',
      hostname: 'box',
      tmpfs: [{ path: '/run', sizeBytes: 1048576 }],
      restartPolicy: 'always',
    });
  });
});
