// Import of Docker/OCI seccomp profiles: what libseccomp would decide is what
// the imported rules decide; what cannot be carried over is reported.
import { describe, expect, it } from 'vitest';
import { importDockerProfile } from '../src/policy/docker.js';
import { checkProfile, resolveProfile } from '../src/policy/resolve.js';
import { compilePolicy } from '../src/policy/compile.js';
import { decodeProgram, SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS } from '../src/policy/bpf.js';
import { runFilter } from '../src/policy/interpret.js';
import { loadTable } from '../src/tables/index.js';
import type { Abi } from '../src/tables/types.js';

/** A profile in Docker's format exercising each feature (written for this test). */
const docker = {
  defaultAction: 'SCMP_ACT_ERRNO',
  defaultErrnoRet: 1,
  architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
  flags: ['SECCOMP_FILTER_FLAG_SPEC_ALLOW'],
  syscalls: [
    { names: ['read', 'write', 'exit_group', 'getpid', 'no_such_call'], action: 'SCMP_ACT_ALLOW' },
    { names: ['socket'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 40, op: 'SCMP_CMP_NE' }] },
    { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }] },
    { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
    { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 2114060288, op: 'SCMP_CMP_MASKED_EQ' }], excludes: { caps: ['CAP_SYS_ADMIN'] } },
    { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38, excludes: { caps: ['CAP_SYS_ADMIN'] } },
    { names: ['mount', 'umount2'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
    { names: ['chroot'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_CHROOT'] } },
    { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['amd64', 'x32'] } },
    { names: ['ptrace'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '4.8' } },
    { names: ['kcmp'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '99.0' } },
    { names: ['sync'], action: 'SCMP_ACT_LOG' },
    { names: ['kexec_load'], action: 'SCMP_ACT_KILL', comment: 'never' },
    { names: ['getppid'], action: 'SCMP_ACT_ALLOW', frobnicate: true },
  ],
};

const decide = (abi: Abi, profile: Parameters<typeof compilePolicy>[0]['profile'], name: string, args: bigint[] = []) => {
  const t = loadTable(abi);
  const prog = decodeProgram(compilePolicy({ profile, abis: [abi] }).bpf);
  return runFilter(prog, { nr: t.syscalls.find((s) => s.name === name)!.nr, arch: t.auditArch, args }).ret;
};
const EPERM = (SECCOMP_RET_ERRNO | 1) >>> 0;

describe('importDockerProfile()', () => {
  const { profile, report } = importDockerProfile(docker, { file: 'test.json', name: 'imported', kernel: '6.18.0' });

  it('produces a rules file that passes every check', () => {
    expect(checkProfile(profile)).toEqual([]);
    expect(profile.default).toMatchObject({ disposition: 'errno:EPERM', reason: 'security' });
  });

  it('carries the actions and argument conditions over', () => {
    expect(decide('x86_64', profile, 'getpid')).toBe(SECCOMP_RET_ALLOW);
    expect(decide('x86_64', profile, 'socket', [2n])).toBe(SECCOMP_RET_ALLOW);
    expect(decide('x86_64', profile, 'socket', [40n])).toBe(EPERM);
    expect(decide('x86_64', profile, 'personality', [8n])).toBe(SECCOMP_RET_ALLOW);
    expect(decide('x86_64', profile, 'personality', [0x400000n])).toBe(EPERM);
    expect(decide('x86_64', profile, 'clone', [0x11n])).toBe(SECCOMP_RET_ALLOW);
    expect(decide('x86_64', profile, 'clone', [0x10000011n])).toBe(EPERM);
    expect(decide('x86_64', profile, 'clone3')).toBe((SECCOMP_RET_ERRNO | 38) >>> 0);
    expect(decide('x86_64', profile, 'kexec_load')).toBe(SECCOMP_RET_KILL_PROCESS);
    expect(decide('x86_64', profile, 'setns')).toBe(EPERM); // not listed: defaultAction
  });

  it('decides includes/excludes for the zone\'s capabilities, ABI and kernel', () => {
    expect(decide('x86_64', profile, 'mount')).toBe(EPERM); // CAP_SYS_ADMIN is not a default capability
    expect(decide('x86_64', profile, 'chroot')).toBe(SECCOMP_RET_ALLOW); // CAP_SYS_CHROOT is
    expect(decide('x86_64', profile, 'ptrace')).toBe(SECCOMP_RET_ALLOW); // minKernel 4.8 <= 6.18
    expect(decide('x86_64', profile, 'kcmp')).toBe(EPERM); // minKernel 99.0
    expect(decide('x86_64', profile, 'arch_prctl')).toBe(SECCOMP_RET_ALLOW);
    expect(decide('i386', profile, 'arch_prctl')).toBe(EPERM); // amd64/x32 only
    const admin = importDockerProfile(docker, { file: 'test.json', name: 'admin', kernel: '6.18.0', caps: ['CAP_SYS_ADMIN'] }).profile;
    expect(decide('x86_64', admin, 'mount')).toBe(SECCOMP_RET_ALLOW);
    expect(decide('x86_64', admin, 'clone', [0x10000011n])).toBe(EPERM); // excluded entry: clone not listed at all
    expect(resolveProfile(admin, 'x86_64').syscalls.find((s) => s.name === 'clone3')!.disposition).toBe('errno:EPERM');
  });

  it('reports what it could not carry over, naming the entry', () => {
    const text = report.join('\n');
    expect(text).toMatch(/test\.json: "flags" is not supported and was not imported/);
    expect(text).toMatch(/syscalls\[13\] \(getppid\): "frobnicate" is not supported/);
    expect(text).toMatch(/syscalls\[11\] \(sync\): SCMP_ACT_LOG/);
    expect(text).toMatch(/syscalls\[12\] \(kexec_load\): SCMP_ACT_KILL kills only the thread/);
    expect(text).toMatch(/unknown to lxzone's tables were skipped: no_such_call/);
    expect(text).toMatch(/architectures does not list aarch64/);
  });

  it('refuses a document that is not a seccomp profile', () => {
    expect(() => importDockerProfile({ syscalls: [] }, { file: 'x.json', name: 'x' })).toThrow(/x\.json: not a Docker\/OCI seccomp profile/);
    expect(() => importDockerProfile({ defaultAction: 'SCMP_ACT_SOMETHING' }, { file: 'x.json', name: 'x' })).toThrow(/unknown action "SCMP_ACT_SOMETHING"/);
  });
});
