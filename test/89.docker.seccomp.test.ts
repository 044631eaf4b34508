// docker run --security-opt seccomp=FILE through the real docker client: the
// Docker profile is imported and combined with lxzone's own (its refusals
// reach the container with their errno, lxzone's translations stay), for the
// first process, for docker exec, after a restart and after a daemon
// SIGKILL; `unconfined` is lxzone's own policy alone; a bad profile is a 400
// that says what is wrong and leaves nothing behind.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dockerClient } from './support/docker.js';
import { useLifecycleEnv, waitFor } from './support/lifecycle-env.js';

const env = useLifecycleEnv(57);
const docker = dockerClient(env);
const { ok, run } = docker;

/** Everything allowed but mkdir/mkdirat, refused with EPERM (1). */
const NO_MKDIR = {
  defaultAction: 'SCMP_ACT_ALLOW',
  architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_AARCH64'],
  syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }],
};

// mkdir refused, a file still made, and lxzone's one filter (with its listener) on the process.
const PROBE = 'mkdir /tmp/d; echo mkdir=$?; touch /tmp/f && echo touch=ok; uname -n; grep ^Seccomp /proc/self/status';

describe('docker run --security-opt seccomp=FILE', () => {
  it('refuses what the profile refuses, in run, exec, after a restart and a daemon SIGKILL', async () => {
    await env.ok(['list']); // the daemon, which serves docker.sock
    const file = join(env.base, 'no-mkdir.json');
    writeFileSync(file, JSON.stringify(NO_MKDIR, null, 2));
    const fg = await run(['run', '--rm', '--hostname', 'sc1', '--security-opt', `seccomp=${file}`, 'host', '/bin/sh', '-c', PROBE]);
    expect(fg.code).toBe(0);
    expect(fg.stdout).toMatch(/mkdir=1/);
    expect(fg.stderr + fg.stdout).toMatch(/Operation not permitted/);
    expect(fg.stdout).toMatch(/touch=ok/);
    expect(fg.stdout).toMatch(/^sc1$/m);
    expect(fg.stdout).toMatch(/^Seccomp:\s+2$/m);
    expect(fg.stdout).toMatch(/^Seccomp_filters:\s+1$/m);
    // The same without a profile: mkdir works (the test can fail).
    const plain = await ok(['run', '--rm', 'host', '/bin/sh', '-c', PROBE]);
    expect(plain).toMatch(/mkdir=0/);
    // unconfined: lxzone's own policy alone; its filter stays.
    const unconf = await ok(['run', '--rm', '--hostname', 'sc2', '--security-opt', 'seccomp=unconfined', 'host', '/bin/sh', '-c', PROBE]);
    expect(unconf).toMatch(/mkdir=0/);
    expect(unconf).toMatch(/^sc2$/m);
    expect(unconf).toMatch(/^Seccomp:\s+2$/m);
    expect(unconf).toMatch(/^Seccomp_filters:\s+1$/m);

    // A detached container: exec'd processes get the same filter, and a restart and a daemon SIGKILL keep it.
    await ok(['run', '-d', '--name', 'sc', '--security-opt', `seccomp=${file}`, 'host', '/bin/sleep', '600']);
    const inExec = async () => (await run(['exec', 'sc', '/bin/sh', '-c', 'mkdir /tmp/e; echo mkdir=$?'])).stdout;
    expect(await inExec()).toMatch(/mkdir=1/);
    await ok(['restart', '-t', '1', 'sc']);
    expect(await inExec()).toMatch(/mkdir=1/);
    const pid = env.daemonPid()!;
    process.kill(pid, 'SIGKILL');
    await waitFor(() => env.daemonPid() === undefined, 30_000);
    await env.ok(['list']); // a new daemon, which re-attaches the zone
    expect(await inExec()).toMatch(/mkdir=1/);
    await ok(['stop', '-t', '1', 'sc']);
    await ok(['start', 'sc']);
    expect(await inExec()).toMatch(/mkdir=1/);
    // inspect shows what the client sent.
    const opts = JSON.parse(await ok(['inspect', '--format', '{{json .HostConfig.SecurityOpt}}', 'sc'])) as string[];
    expect(opts[0]).toMatch(/^seccomp=\{/);
    await ok(['rm', '-f', 'sc']);
  });

  it('answers a bad profile with a 400 saying what is wrong, and makes nothing', async () => {
    await env.ok(['list']);
    const notProfile = join(env.base, 'not-profile.json');
    writeFileSync(notProfile, JSON.stringify({ syscalls: [] }));
    const r = await run(['run', '--rm', '--name', 'bad', '--security-opt', `seccomp=${notProfile}`, 'host', 'true']);
    expect(r.code).toBe(125);
    expect(r.stderr).toMatch(/Error response from daemon: .*seccomp.*defaultAction/);
    const badAction = join(env.base, 'bad-action.json');
    writeFileSync(badAction, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_BOGUS' }] }));
    const r2 = await run(['run', '--rm', '--name', 'bad', '--security-opt', `seccomp=${badAction}`, 'host', 'true']);
    expect(r2.code).toBe(125);
    expect(r2.stderr).toMatch(/SCMP_ACT_BOGUS/);
    // Not JSON at all, sent raw (the client itself refuses a file that is not JSON).
    const raw = await docker.raw('POST', '/v1.41/containers/create?name=bad', { Image: 'host', Cmd: ['true'], HostConfig: { SecurityOpt: ['seccomp={nope'] } });
    expect(raw.status).toBe(400);
    expect(JSON.parse(raw.body).message).toMatch(/seccomp profile/);
    expect(env.store.list()).toEqual([]);
    expect((await ok(['ps', '-a', '-q']))).toBe('');
  });
});
