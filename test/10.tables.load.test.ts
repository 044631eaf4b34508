// loadTable's validation and lookups: a table that would put a wrong or
// missing entry into a dense dispatch array must be refused when loaded.
import { describe, expect, it } from 'vitest';
import { hostAbis, loadTable, syscallByName, syscallByNr } from '../src/tables/index.js';
import { validateTable } from '../src/tables/validate.js';
import type { SyscallTable } from '../src/tables/types.js';

const good = (): SyscallTable => structuredClone(loadTable('x86_64'));

describe('loadTable', () => {
  it('loads each ABI once and returns the cached table', () => {
    expect(loadTable('i386')).toBe(loadTable('i386'));
    expect(loadTable('aarch64').abi).toBe('aarch64');
  });
  it('refuses an unknown ABI', () => {
    expect(() => loadTable('x32' as never)).toThrow(/unknown ABI "x32"/);
  });
  it('looks syscalls up by name and by number, holes and strangers excepted', () => {
    expect(syscallByName('x86_64', 'read')?.nr).toBe(0);
    expect(syscallByNr('i386', 102)?.name).toBe('socketcall');
    expect(syscallByNr('x86_64', 400)).toBeUndefined(); // hole
    expect(syscallByNr('x86_64', 0x40000000)).toBeUndefined(); // x32 number
    expect(syscallByNr('x86_64', -1)).toBeUndefined();
    expect(syscallByName('x86_64', 'socketcall')).toBeUndefined();
  });
});

describe('validateTable', () => {
  const where = 'test.json';
  it('accepts the committed table', () => {
    expect(() => validateTable(good(), 'x86_64', where)).not.toThrow();
  });
  it('refuses a number that is neither a syscall nor a hole', () => {
    const t = good();
    t.holes = t.holes.filter((h) => h.nr !== 400);
    expect(() => validateTable(t, 'x86_64', where)).toThrow(/test\.json: 400 is neither a syscall nor a hole/);
  });
  it('refuses a syscall with seven argument registers', () => {
    const t = good();
    t.syscalls[0]!.args = Array.from({ length: 7 }, (_, i) => ({ name: `a${i}`, type: 'int' }));
    expect(() => validateTable(t, 'x86_64', where)).toThrow(/\/syscalls\/0\/args must NOT have more than 6 items/);
  });
  it('refuses a name used twice, a hole on a syscall, and disorder', () => {
    const dup = good();
    dup.syscalls[1]!.name = 'read';
    expect(() => validateTable(dup, 'x86_64', where)).toThrow(/read appears twice/);
    const hole = good();
    hole.holes.push({ nr: 0, reason: 'x' });
    expect(() => validateTable(hole, 'x86_64', where)).toThrow(/hole 0 is also read/);
    const order = good();
    [order.syscalls[0], order.syscalls[1]] = [order.syscalls[1]!, order.syscalls[0]!];
    expect(() => validateTable(order, 'x86_64', where)).toThrow(/ascending order/);
  });
  it('refuses a table whose ABI or AUDIT_ARCH is not the one asked for', () => {
    expect(() => validateTable(good(), 'i386', where)).toThrow(/abi is "x86_64", expected "i386"/);
    const t = good();
    t.auditArch = 0x40000003;
    expect(() => validateTable(t, 'x86_64', where)).toThrow(/expected AUDIT_ARCH_X86_64/);
  });
  it('refuses an unknown class and an overlay source without a version', () => {
    const t = good();
    (t.syscalls[0] as { class: string }).class = 'misc';
    expect(() => validateTable(t, 'x86_64', where)).toThrow(/class must be equal to one of the allowed values/);
    const s = good();
    s.syscalls[0]!.source = 'overlay';
    expect(() => validateTable(s, 'x86_64', where)).toThrow(/source must match pattern/);
  });
});

describe('hostAbis', () => {
  it('is x86_64 + i386 on an x86_64 host, aarch64 alone on arm64', () => {
    expect(hostAbis('x64')).toEqual(['x86_64', 'i386']);
    expect(hostAbis('arm64')).toEqual(['aarch64']);
    expect(() => hostAbis('riscv64')).toThrow(/no syscall table for host architecture "riscv64"/);
  });
  it('matches this process', () => {
    const abis = hostAbis();
    expect(abis.length).toBeGreaterThan(0);
    for (const a of abis) expect(loadTable(a).syscalls.length).toBeGreaterThan(250);
  });
});
