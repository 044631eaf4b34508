// The compiler is proved by running its output: for every syscall number of
// every ABI (and argument values around every rule's constants for the
// argument-conditioned ones) the BPF program, run by the interpreter, returns
// exactly the action the resolved rules say.
import { describe, expect, it } from 'vitest';
import { compilePolicy, compileResolved } from '../src/policy/compile.js';
import { resolveProfile } from '../src/policy/resolve.js';
import { decodeProgram, describeAction, SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_USER_NOTIF, X32_SYSCALL_BIT } from '../src/policy/bpf.js';
import { checkProgram, isConstAllow, runFilter } from '../src/policy/interpret.js';
import { holds } from '../src/policy/conditions.js';
import { mustParse, seccompAction } from '../src/policy/disposition.js';
import { decodeDispatch, dispatchHandler, DISPATCH_MAGIC } from '../src/policy/dispatch.js';
import { defaultTables } from '../src/policy/tables.js';
import { handlerId } from '../src/policy/handlers.js';
import type { ResolvedProfile, ResolvedSyscall, SyscallRules } from '../src/policy/types.js';
import type { Abi, SyscallTable } from '../src/tables/types.js';
import { seededRandom } from './support/seeded-random.js';

const ENOSYS = 38;
const ARCH_OTHER = [0x40000028 /* ARM */, 0x80000016 /* S390X */, 0, 0xffffffff];

/** The decision the rules describe, evaluated directly (no BPF involved). */
function expected(sc: ResolvedSyscall | undefined, args: bigint[]): number {
  if (!sc) return SECCOMP_RET_USER_NOTIF;
  const rule = sc.rules.find((r) => r.when.every((c) => holds(c, args[c.arg] ?? 0n)));
  return seccompAction(mustParse(rule ? rule.disposition : sc.disposition));
}

function u64(r: () => number): bigint {
  return (BigInt(Math.floor(r() * 2 ** 32)) << 32n) | BigInt(Math.floor(r() * 2 ** 32));
}

/** Argument vectors around every constant the rules of a syscall mention, with random high halves. */
function argSamples(sc: ResolvedSyscall, r: () => number, n: number): bigint[][] {
  const interesting = new Set<bigint>([0n, 1n, 0xffffffffn, (1n << 64n) - 1n]);
  for (const rule of sc.rules) {
    for (const c of rule.when) {
      for (const d of [-1n, 0n, 1n]) interesting.add((c.value + d) & ((1n << 64n) - 1n));
      interesting.add(c.value | (c.mask ^ ((1n << 64n) - 1n)));
      interesting.add((c.value | 0xffffffff00000000n) & ((1n << 64n) - 1n));
      interesting.add(c.value ^ 0x100000000n);
    }
  }
  const pool = [...interesting];
  const out: bigint[][] = [];
  for (let i = 0; i < n; i++) {
    out.push(Array.from({ length: 6 }, () => {
      const pick = r();
      if (pick < 0.6) return pool[Math.floor(r() * pool.length)]!;
      if (pick < 0.8) return pool[Math.floor(r() * pool.length)]! | (u64(r) & 0xffffffff00000000n);
      return u64(r);
    }));
  }
  return out;
}

function proveAgainstRules(profiles: ResolvedProfile[], bpf: Buffer, tables: (abi: Abi) => SyscallTable, seed = 1): void {
  const prog = decodeProgram(bpf);
  checkProgram(prog);
  const r = seededRandom(seed);
  for (const p of profiles) {
    const table = tables(p.abi);
    const byNr = new Map(p.syscalls.map((s) => [s.nr, s]));
    for (let nr = 0; nr <= table.maxNr + 3; nr++) {
      const sc = byNr.get(nr);
      const samples = sc?.conditional ? argSamples(sc, r, 200) : [Array.from({ length: 6 }, () => u64(r))];
      for (const args of samples) {
        const got = runFilter(prog, { nr, arch: p.auditArch, args }).ret;
        const want = expected(sc, args);
        if (got !== want) {
          throw new Error(`${p.profile}/${p.abi} nr ${nr} (${sc?.name ?? 'hole'}) args ${args.map((a) => '0x' + a.toString(16)).join(',')}: got ${describeAction(got)}, rules say ${describeAction(want)}`);
        }
      }
      // What the kernel's action cache will conclude: constant-allow exactly for the unconditional host calls.
      const constAllow = sc !== undefined && !sc.conditional && sc.disposition === 'host';
      expect(isConstAllow(prog, p.auditArch, nr), `${p.abi} ${sc?.name ?? nr} cacheable`).toBe(constAllow);
    }
    for (const nr of [1000, 0x3fffffff, 0x7fffffff >>> 0]) {
      expect(describeAction(runFilter(prog, { nr, arch: p.auditArch }).ret), `${p.abi} nr ${nr}`).toBe(describeAction(p.abi === 'x86_64' && nr & X32_SYSCALL_BIT ? SECCOMP_RET_ERRNO | ENOSYS : SECCOMP_RET_USER_NOTIF));
    }
  }
}

describe('compilePolicy()', () => {
  it('returns bpf, dispatch and instructions per the contract', () => {
    const c = compilePolicy({ profile: 'default', abis: ['x86_64', 'i386'] });
    expect(c.bpf.length).toBe(c.instructions * 8);
    expect(c.instructions).toBeLessThanOrEqual(4096);
    expect(c.dispatch.readUInt32LE(0)).toBe(DISPATCH_MAGIC);
    const d = decodeDispatch(c.dispatch);
    expect(d.abis.map((a) => a.auditArch)).toEqual([defaultTables('x86_64').auditArch, defaultTables('i386').auditArch]);
    expect(d.abis[0]!.handlers.length).toBe(defaultTables('x86_64').maxNr + 1);
    expect(d.flags & 1).toBe(0);
  });

  for (const profile of ['default', 'strict', 'permissive', 'trace']) {
    for (const [allowNesting, netRaw] of [[false, false], [true, false], [false, true]] as const) {
      it(`${profile} profile (allowNesting ${allowNesting}, netRaw ${netRaw}): every number of x86_64 and i386 decided as the rules say`, () => {
        const abis: Abi[] = ['x86_64', 'i386'];
        const c = compilePolicy({ profile, abis, allowNesting, netRaw });
        const resolved = abis.map((abi) => resolveProfile(profile, abi, { allowNesting, netRaw }));
        proveAgainstRules(resolved, c.bpf, defaultTables, allowNesting ? 2 : netRaw ? 4 : 1);
      });
    }

    it(`${profile} profile for an aarch64 host: decided as the rules say`, () => {
      const c = compilePolicy({ profile, abis: ['aarch64'] });
      proveAgainstRules([resolveProfile(profile, 'aarch64')], c.bpf, defaultTables, 3);
    });
  }

  it('sets the SIGSYS flag in the dispatch table for strict only', () => {
    expect(decodeDispatch(compilePolicy({ profile: 'strict' }).dispatch).flags).toBe(1);
    for (const p of ['default', 'permissive', 'trace']) expect(decodeDispatch(compilePolicy({ profile: p }).dispatch).flags).toBe(0);
  });

  it('applies a zone\'s extra rules over the profile', () => {
    const t = defaultTables('x86_64');
    const nr = (n: string): number => t.syscalls.find((s) => s.name === n)!.nr;
    const extraRules: SyscallRules[] = [
      { names: ['swapon'], disposition: 'host', comment: 'this zone may try swapon' },
      { names: ['getpid'], disposition: 'errno:EACCES', reason: 'security', note: 'test' },
    ];
    const prog = decodeProgram(compilePolicy({ profile: 'default', abis: ['x86_64'], extraRules }).bpf);
    expect(runFilter(prog, { nr: nr('swapon'), arch: t.auditArch }).ret).toBe(SECCOMP_RET_ALLOW);
    expect(runFilter(prog, { nr: nr('getpid'), arch: t.auditArch }).ret).toBe((SECCOMP_RET_ERRNO | 13) >>> 0);
    expect(runFilter(prog, { nr: nr('swapoff'), arch: t.auditArch }).ret).toBe((SECCOMP_RET_ERRNO | 1) >>> 0);
  });

  it('kills any arch it was not compiled for, first thing', () => {
    const prog = decodeProgram(compilePolicy({ profile: 'default', abis: ['x86_64', 'i386'] }).bpf);
    for (const arch of [...ARCH_OTHER, defaultTables('aarch64').auditArch]) {
      expect(runFilter(prog, { nr: 0, arch }).ret).toBe(SECCOMP_RET_KILL_PROCESS);
    }
    const x86only = decodeProgram(compilePolicy({ profile: 'default', abis: ['x86_64'] }).bpf);
    expect(runFilter(x86only, { nr: 20, arch: defaultTables('i386').auditArch }).ret).toBe(SECCOMP_RET_KILL_PROCESS);
  });

  it('refuses x32 numbers with ENOSYS on x86_64', () => {
    const prog = decodeProgram(compilePolicy({ profile: 'default', abis: ['x86_64', 'i386'] }).bpf);
    const arch = defaultTables('x86_64').auditArch;
    for (const nr of [X32_SYSCALL_BIT, X32_SYSCALL_BIT | 0, X32_SYSCALL_BIT | 1, X32_SYSCALL_BIT | 512, 0xffffffff]) {
      expect(runFilter(prog, { nr, arch }).ret).toBe((SECCOMP_RET_ERRNO | ENOSYS) >>> 0);
    }
  });

  it('decides the hot calls with few instructions and no argument loads', () => {
    const prog = decodeProgram(compilePolicy({ profile: 'default', abis: ['x86_64', 'i386'] }).bpf);
    const t = defaultTables('x86_64');
    const nrOf = (n: string): number => t.syscalls.find((s) => s.name === n)!.nr;
    for (const name of ['read', 'write', 'futex', 'openat', 'mmap', 'clock_gettime', 'epoll_wait']) {
      const r = runFilter(prog, { nr: nrOf(name), arch: t.auditArch });
      expect(r.ret).toBe(SECCOMP_RET_ALLOW);
      expect(r.loadedArgs).toBe(false);
      expect(r.steps, name).toBeLessThanOrEqual(14);
    }
  });

  it('notifies uname/sysinfo/syslog/reboot and names their handlers in the dispatch table', () => {
    const c = compilePolicy({ profile: 'default', abis: ['x86_64', 'i386'] });
    const prog = decodeProgram(c.bpf);
    const d = decodeDispatch(c.dispatch);
    (['x86_64', 'i386'] as const).forEach((abi, i) => {
      const t = defaultTables(abi);
      for (const name of ['uname', 'sysinfo', 'syslog', 'reboot'] as const) {
        const nr = t.syscalls.find((s) => s.name === name)!.nr;
        expect(runFilter(prog, { nr, arch: t.auditArch }).ret).toBe(SECCOMP_RET_USER_NOTIF);
        expect(d.abis[i]!.handlers[nr]).toBe(handlerId(name));
      }
      for (const h of t.holes) expect(d.abis[i]!.handlers[h.nr]).toBe(handlerId('unsupported'));
      for (const sc of resolveProfile('default', abi).syscalls) expect(d.abis[i]!.handlers[sc.nr]).toBe(dispatchHandler(sc));
    });
  });

  it('checks 32-bit arguments on the low half only and 64-bit ones on both halves', () => {
    const prog = decodeProgram(compilePolicy({ profile: 'default', abis: ['x86_64', 'i386'] }).bpf);
    const t = defaultTables('x86_64');
    const nr = (n: string): number => t.syscalls.find((s) => s.name === n)!.nr;
    const EPERM = (SECCOMP_RET_ERRNO | 1) >>> 0;
    // ioctl cmd is an unsigned int: garbage in the high half must not slip TIOCSTI past the rule.
    expect(runFilter(prog, { nr: nr('ioctl'), arch: t.auditArch, args: [0n, 0xdead000000005412n] }).ret).toBe(EPERM);
    expect(runFilter(prog, { nr: nr('ioctl'), arch: t.auditArch, args: [0n, 0x5413n] }).ret).toBe(SECCOMP_RET_ALLOW);
    // clone flags are an unsigned long: in strict, CLONE_NEWUSER in the low half kills, a high-half bit alone does not.
    const strict = decodeProgram(compilePolicy({ profile: 'strict', abis: ['x86_64', 'i386'] }).bpf);
    expect(runFilter(strict, { nr: nr('clone'), arch: t.auditArch, args: [0x10000011n] }).ret).toBe(SECCOMP_RET_KILL_PROCESS);
    expect(runFilter(strict, { nr: nr('clone'), arch: t.auditArch, args: [0x1000000000000011n] }).ret).toBe(SECCOMP_RET_ALLOW);
    expect(runFilter(prog, { nr: nr('socket'), arch: t.auditArch, args: [17n, 3n, 0n] }).ret).toBe(EPERM);
    expect(runFilter(prog, { nr: nr('socket'), arch: t.auditArch, args: [2n, 1n | 0x80000n, 0n] }).ret).toBe(SECCOMP_RET_ALLOW);
    expect(runFilter(prog, { nr: nr('socket'), arch: t.auditArch, args: [2n, 10n | 0x80000n, 0n] }).ret).toBe(EPERM);
    // default: clone3 goes to the host (namespace flags are confined by the zone's user namespace).
    expect(runFilter(prog, { nr: nr('clone3'), arch: t.auditArch }).ret).toBe(SECCOMP_RET_ALLOW);
  });
});

/** A synthetic ABI: `n` syscalls named s0…, 6 unsigned long args, arch = x86_64's. */
function syntheticTable(n: number): SyscallTable {
  return {
    abi: 'x86_64', auditArch: 0xc000003e, auditArchName: 'AUDIT_ARCH_X86_64', maxNr: n - 1, generatedFrom: ['test'],
    syscalls: Array.from({ length: n }, (_, nr) => ({
      nr, name: `s${nr}`, class: 'other' as const, source: 'test',
      args: Array.from({ length: 6 }, (_, i) => ({ name: `a${i}`, type: i % 2 ? 'unsigned long' : 'int' })),
    })),
    holes: [],
  };
}

describe('compileResolved() on synthetic tables', () => {
  it('handles jumps longer than 255 instructions and 64-bit order compares', () => {
    const n = 120;
    const table = syntheticTable(n);
    const tables = (): SyscallTable => table;
    const ops = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'masked_eq'] as const;
    const r = seededRandom(7);
    const syscalls: SyscallRules[] = [];
    for (let nr = 0; nr < n; nr += 2) {
      const op = ops[nr % ops.length]!;
      const v = '0x' + (u64(r) & (op === 'masked_eq' ? 0x0000ffff0000ff00n : (1n << 64n) - 1n)).toString(16);
      syscalls.push({
        names: [`s${nr}`], disposition: nr % 4 ? 'host' : 'errno:EPERM', reason: 'security', note: 'test',
        rules: [
          { when: [{ arg: 1, op, value: v, ...(op === 'masked_eq' ? { mask: '0x0000ffff0000ff00' } : {}) }], disposition: 'errno:EACCES', reason: 'security', note: 'rule' },
          { when: [{ arg: 0, op: 'eq', value: nr }, { arg: 3, op: 'gt', value: '0x100000000' }], disposition: 'kill', reason: 'security', note: 'rule' },
          { when: [{ arg: 2, op: 'le', value: 77 }], disposition: 'emulate:js', reason: 'not-yet', note: 'rule' },
        ],
      });
    }
    for (let nr = 1; nr < n; nr += 2) syscalls.push({ names: [`s${nr}`], disposition: nr % 3 ? 'host' : 'trace', note: 'traced' });
    const profile = { profile: 'synthetic', default: { disposition: 'host' }, syscalls };
    const resolved = resolveProfile(profile, 'x86_64', { tables });
    const c = compileResolved([resolved], [table.maxNr]);
    const prog = decodeProgram(c.bpf);
    expect(prog.length).toBeGreaterThan(600);
    // At least one trampoline was needed.
    expect(prog.some((i) => i.code === 0x05)).toBe(true);
    proveAgainstRules([resolved], c.bpf, tables, 11);
  });

  it('refuses a program over the kernel limit of 4096 instructions', () => {
    const n = 700;
    const table = syntheticTable(n);
    const syscalls: SyscallRules[] = Array.from({ length: n }, (_, nr) => ({
      names: [`s${nr}`], disposition: 'host',
      rules: [
        { when: [{ arg: 1, op: 'eq', value: nr }], disposition: 'errno:EPERM', reason: 'security', note: 'x' },
        { when: [{ arg: 3, op: 'eq', value: nr }], disposition: 'errno:EACCES', reason: 'security', note: 'x' },
      ],
    }));
    const resolved = resolveProfile({ profile: 'big', default: { disposition: 'host' }, syscalls }, 'x86_64', { tables: () => table });
    expect(() => compileResolved([resolved], [table.maxNr])).toThrow(/over the kernel's limit of 4096/);
  });

  it('costs a logarithmic number of steps in the number of distinct ranges', () => {
    const n = 400;
    const table = syntheticTable(n);
    // Alternate host/EPERM so that every number is its own range: the worst case for the search.
    const syscalls: SyscallRules[] = Array.from({ length: n }, (_, nr) => ({
      names: [`s${nr}`], disposition: nr % 2 ? 'host' : 'errno:EPERM', reason: 'security', note: 'x',
    }));
    const resolved = resolveProfile({ profile: 'alt', default: { disposition: 'host' }, syscalls }, 'x86_64', { tables: () => table });
    const prog = decodeProgram(compileResolved([resolved], [table.maxNr]).bpf);
    let worst = 0;
    for (let nr = 0; nr < n; nr++) worst = Math.max(worst, runFilter(prog, { nr, arch: table.auditArch }).steps);
    // arch load + jeq + nr load + x32 jset + ~log2(401) search jumps + ret
    expect(worst).toBeLessThanOrEqual(4 + Math.ceil(Math.log2(n + 1)) + 3);
  });
});
