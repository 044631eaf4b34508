// Two profiles in one filter (src/policy/combine.ts): for every syscall and
// a set of argument vectors that reach both profiles' argument rules, the
// combined filter decides what the kernel would with the two filters
// stacked: the stricter action, the second profile's errno on a tie.
import { describe, expect, it } from 'vitest';
import { importDockerProfile } from '../src/policy/docker.js';
import { compilePolicy } from '../src/policy/compile.js';
import { decodeDispatch } from '../src/policy/dispatch.js';
import { handlerId } from '../src/policy/handlers.js';
import {
  decodeProgram, SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_USER_NOTIF,
} from '../src/policy/bpf.js';
import { runFilter } from '../src/policy/interpret.js';
import { loadTable } from '../src/tables/index.js';

/** An OCI profile with the shapes runtimes write: a default, lists, argument rules (written for this test). */
const oci = {
  defaultAction: 'SCMP_ACT_ALLOW',
  syscalls: [
    { names: ['mkdir', 'mkdirat', 'uname'], action: 'SCMP_ACT_ERRNO', errnoRet: 95 },
    { names: ['kexec_load', 'getppid'], action: 'SCMP_ACT_KILL_PROCESS' },
    { names: ['socket'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 40, op: 'SCMP_CMP_EQ' }] },
    { names: ['personality'], action: 'SCMP_ACT_ERRNO', errnoRet: 22, args: [{ index: 0, value: 8, op: 'SCMP_CMP_NE' }] },
    { names: ['ioctl'], action: 'SCMP_ACT_ERRNO', errnoRet: 25, args: [{ index: 1, value: 0x5401, op: 'SCMP_CMP_EQ' }] },
    { names: ['mknodat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, args: [{ index: 2, value: 0o170000, valueTwo: 0o10000, op: 'SCMP_CMP_MASKED_EQ' }] },
    { names: ['sethostname'], action: 'SCMP_ACT_NOTIFY' },
  ],
};

const actionRank = (ret: number): number => {
  const action = (ret & 0xffff0000) >>> 0;
  if (action === SECCOMP_RET_KILL_PROCESS) return 4;
  if (action === SECCOMP_RET_ERRNO) return 3;
  if (action === SECCOMP_RET_USER_NOTIF) return 2;
  if (action === SECCOMP_RET_ALLOW) return 0;
  throw new Error(`unexpected action ${ret.toString(16)}`);
};

/** Argument vectors reaching the rules of both profiles (lxzone's mknod/ioctl/clone rules and the ones above). */
const ARGS: bigint[][] = [
  [], [2n], [40n], [8n], [0x400000n], [0x10000011n], [0x7e020000n],
  [0n, 0x5401n], [0n, 0x5412n], [0n, 0x4c00n],
  [0n, 0o20644n, 5n], [0n, 0o10644n, 0n], [0n, 0n, 0o20644n, 5n], [0n, 0n, 0o10644n, 0n], [0n, 0n, 0o60644n, 1n],
];

describe('combineResolved(): lxzone\'s profile with an OCI one', () => {
  const other = importDockerProfile(oci, { file: 'oci.json', name: 'oci' }).profile;
  const t = loadTable('x86_64');
  const compile = (restrict?: typeof other) => compilePolicy({ profile: 'default', abis: ['x86_64'], ...(restrict ? { restrict } : {}) });
  const own = compile();
  const theirs = compilePolicy({ profile: other, abis: ['x86_64'] });
  const both = compile(other);
  const [ownProg, theirProg, bothProg] = [own, theirs, both].map((c) => decodeProgram(c.bpf));

  it('decides, for every syscall and argument vector, the stricter of the two (the OCI errno on a tie)', () => {
    let checked = 0;
    for (const sc of t.syscalls) {
      for (const args of ARGS) {
        const data = { nr: sc.nr, arch: t.auditArch, args };
        const a = runFilter(ownProg!, data).ret;
        const b = runFilter(theirProg!, data).ret;
        const want = actionRank(b) >= actionRank(a) ? b : a;
        expect(runFilter(bothProg!, data).ret, `${sc.name}(${args.join(', ')})`).toBe(want);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(4000);
  });

  it('keeps lxzone\'s translations where the OCI profile lets the call run, and its refusals where it asks for less', () => {
    const nr = (name: string) => t.syscalls.find((s) => s.name === name)!.nr;
    const ret = (name: string, args: bigint[] = []) => runFilter(bothProg!, { nr: nr(name), arch: t.auditArch, args }).ret;
    expect(ret('sysinfo')).toBe(SECCOMP_RET_USER_NOTIF); // emulated by lxzone, allowed by the bundle
    expect(ret('uname')).toBe((SECCOMP_RET_ERRNO | 95) >>> 0); // emulated by lxzone, refused by the bundle
    expect(ret('getppid')).toBe(SECCOMP_RET_KILL_PROCESS);
    expect(ret('ioctl', [0n, 0x5412n])).toBe((SECCOMP_RET_ERRNO | 1) >>> 0); // TIOCSTI: lxzone's refusal
    expect(ret('ioctl', [0n, 0x5401n])).toBe((SECCOMP_RET_ERRNO | 25) >>> 0);
    expect(ret('ioctl', [0n, 0x5402n])).toBe(SECCOMP_RET_ALLOW);
    expect(ret('mknodat', [0n, 0n, 0o20644n, 5n])).toBe((SECCOMP_RET_ERRNO | 1) >>> 0); // a char device: lxzone's refusal
    expect(ret('mknodat', [0n, 0n, 0o10644n, 0n])).toBe((SECCOMP_RET_ERRNO | 13) >>> 0); // a FIFO: the bundle's
  });

  it('names one supervisor handler per syscall: lxzone\'s where it translates, trace where only the bundle notifies', () => {
    const [d] = decodeDispatch(both.dispatch).abis;
    const [o] = decodeDispatch(own.dispatch).abis;
    const nr = (name: string) => t.syscalls.find((s) => s.name === name)!.nr;
    expect(d!.handlers[nr('sysinfo')]).toBe(o!.handlers[nr('sysinfo')]);
    expect(d!.handlers[nr('sysinfo')]).not.toBe(handlerId('unsupported'));
    // sethostname: lxzone's own decision stands if it translates it; otherwise the bundle's notify records it.
    const own0 = o!.handlers[nr('sethostname')];
    expect(d!.handlers[nr('sethostname')]).toBe(own0 !== handlerId('unsupported') ? own0 : handlerId('trace'));
  });
});
