// docker run -e NAME where the client's environment does not set NAME,
// through the real docker client (Debian's): the client sends "NAME" alone,
// and dockerd then leaves the image's NAME out of the container (moby's
// merge of the request with the image, ReplaceOrAppendEnvValues). lxzone
// does the same, at run and at exec, and shows it in inspect as dockerd
// does ("NAME" alone in Config.Env); the image's other variables stay, and
// a name the client does set is the client's value.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { dockerUnavailable, useDocker } from './support/docker.js';
import { waitFor } from './support/lifecycle-env.js';
import { busyboxRoot, ociLayout } from './support/registry.js';
import { describeUnless } from './support/skip.js';

const why = dockerUnavailable('image layers are unpacked with overlayfs whiteouts; containers are zones');
const { env, ok, run } = useDocker(92, { skip: why });

const IMAGE_CONFIG = { Env: ['PATH=/bin', 'GREETING=hello from the image', 'KEEP=kept', 'SETBYCLIENT=image'], Cmd: ['/bin/sh'] };
let work: string;

/** `env`'s output as a map (name -> value). */
const vars = (out: string) => new Map(out.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const));

describeUnless(why, 'docker run -e NAME unset in the client', () => {
  beforeAll(() => {
    work = mkdtempSync('/tmp/lxzone-89e-');
    busyboxRoot(join(work, 'l1'));
    ociLayout(join(work, 'oci'), [join(work, 'l1')], 'v1', false, IMAGE_CONFIG);
    execFileSync('tar', ['--numeric-owner', '-C', join(work, 'oci'), '-cf', join(work, 'image.tar'), '.']);
  });
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("removes the image's NAME from the container, at run and at exec, as dockerd does", { timeout: 240_000 }, async () => {
    await env.ok(['list']); // the daemon, which serves docker.sock
    await env.ok(['image', 'import', join(work, 'image.tar'), 'envimg:v1']);
    expect(await waitFor(async () => (await run(['version'])).code === 0, 60_000, 200)).toBe(true);
    delete process.env.GREETING;
    delete process.env.NOWHERE;
    process.env.SETBYCLIENT = 'the client';

    const args = ['-e', 'GREETING', '-e', 'NOWHERE', '-e', 'SETBYCLIENT'];
    const once = vars(await ok(['run', '--rm', '--network', 'none', ...args, 'envimg:v1', '/bin/env']));
    expect(once.has('GREETING')).toBe(false);
    expect(once.has('NOWHERE')).toBe(false);
    expect(once.get('SETBYCLIENT')).toBe('the client');
    expect(once.get('KEEP')).toBe('kept');
    expect(once.get('PATH')).toBe('/bin');

    // A container made so: its exec'd processes lack the name too, and inspect lists it alone.
    await ok(['run', '-d', '--name', 'eu-one', '--network', 'none', ...args, 'envimg:v1', '/bin/busybox', 'sleep', '600']);
    const exec = vars(await ok(['exec', 'eu-one', '/bin/env']));
    expect(exec.has('GREETING')).toBe(false);
    expect(exec.get('KEEP')).toBe('kept');
    const cfgEnv = JSON.parse(await ok(['inspect', 'eu-one']))[0].Config.Env as string[];
    expect(cfgEnv).toEqual(expect.arrayContaining(['GREETING', 'NOWHERE', 'KEEP=kept', 'PATH=/bin', 'SETBYCLIENT=the client']));
    expect(cfgEnv.filter((e) => e.startsWith('GREETING') || e.startsWith('SETBYCLIENT'))).toEqual(['SETBYCLIENT=the client', 'GREETING']);

    // Without -e NAME the image's value is there (what the removal above is measured against).
    const plain = vars(await ok(['run', '--rm', '--network', 'none', 'envimg:v1', '/bin/env']));
    expect(plain.get('GREETING')).toBe('hello from the image');
    expect(plain.get('SETBYCLIENT')).toBe('image');

    await ok(['rm', '-f', 'eu-one']);
    expect(await ok(['ps', '-aq'])).toBe('');
  });
});
