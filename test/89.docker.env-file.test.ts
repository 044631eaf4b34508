// docker run --env-file through the real docker client (Debian's, API 1.41):
// the client reads the file (comments and blank lines skipped, leading
// blanks trimmed, the value kept as written, `NAME` alone taken from the
// client's own environment and left out when unset there) and -e after it
// wins; the container's process sees exactly that. A missing file is the
// client's error, and nothing is made.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useDocker } from './support/docker.js';

const { env, ok, run, up } = useDocker(48);

describe('docker run --env-file', () => {
  it('gives the container the file\'s variables as the docker client reads them', async () => {
    await up();
    const file = join(env.base, 'app.env');
    writeFileSync(file, ['# settings of the app', '', '   ', 'GREETING=hello world', '  INDENTED=yes', 'EMPTY=', 'FROM_CLIENT', 'EF_NOT_SET', 'WITH=a=b # not a comment', 'LAST=1'].join('\n'));
    process.env.FROM_CLIENT = 'the client\'s value';
    delete process.env.EF_NOT_SET;

    const out = await ok(['run', '--rm', '--name', 'ef-one', '--env-file', file, '-e', 'LAST=2', 'host', 'env']);
    const vars = new Map(out.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const));
    expect(vars.get('GREETING')).toBe('hello world');
    expect(vars.get('INDENTED')).toBe('yes');
    expect(vars.get('EMPTY')).toBe('');
    expect(vars.get('FROM_CLIENT')).toBe('the client\'s value');
    expect(vars.has('EF_NOT_SET')).toBe(false);
    expect(vars.get('WITH')).toBe('a=b # not a comment');
    expect(vars.get('LAST')).toBe('2');
    expect([...vars.keys()].filter((k) => k.startsWith('#') || k === '')).toEqual([]);

    // What inspect shows of a container made from it: the same list.
    await ok(['create', '--name', 'ef-two', '--env-file', file, 'host', 'true']);
    const cfgEnv = JSON.parse(await ok(['inspect', 'ef-two']))[0].Config.Env as string[];
    expect(cfgEnv).toEqual(expect.arrayContaining(['GREETING=hello world', 'INDENTED=yes', 'EMPTY=', 'FROM_CLIENT=the client\'s value', 'WITH=a=b # not a comment', 'LAST=1']));
    expect(cfgEnv.some((e) => e.startsWith('EF_NOT_SET'))).toBe(false);

    // A file that is not there: the client's error, nothing made.
    const missing = await run(['run', '--rm', '--name', 'ef-three', '--env-file', join(env.base, 'nope.env'), 'host', 'true']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/nope\.env/);
    await ok(['rm', 'ef-two']);
    expect(await ok(['ps', '-aq'])).toBe('');
  });
});
