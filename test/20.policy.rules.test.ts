// The rule language refuses what it cannot compile faithfully, and says where:
// the file, the entry (with its syscall names), the rule and the reason.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LxzoneError } from '../src/errors.js';
import { checkProfile, resolveProfile } from '../src/policy/resolve.js';
import type { Profile, SyscallRules } from '../src/policy/types.js';

const dir = mkdtempSync(join(tmpdir(), 'lxzone-rules-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function writeProfile(syscalls: SyscallRules[] | unknown, extra: object = {}): string {
  const file = join(dir, `p${n++}.json`);
  writeFileSync(file, JSON.stringify({ profile: 'test', default: { disposition: 'host' }, syscalls, ...extra }));
  return file;
}

function problemsOf(syscalls: SyscallRules[] | unknown, extra: object = {}): { file: string; problems: string[] } {
  const file = writeProfile(syscalls, extra);
  return { file, problems: checkProfile(file) };
}

describe('rules checks', () => {
  it('accepts a valid file with symbolic values, comments and ABI-specific entries', () => {
    const { problems } = problemsOf([
      { names: ['ioctl'], disposition: 'host', comment: 'c', rules: [
        { when: [{ arg: 1, op: 'eq', value: { value: 'TIOCSTI', comment: 'fake input' } }], disposition: 'errno:EPERM', reason: 'security', note: 'n', comment: 'c' },
      ] },
      { names: ['socketcall'], abis: ['i386'], disposition: 'errno:ENOSYS', reason: 'not-yet', note: 'n' },
      { names: ['clone'], disposition: 'host', rules: [
        { when: [{ arg: 0, op: 'masked_eq', mask: 'CLONE_NEWUSER|CLONE_NEWNET', value: 'CLONE_NEWUSER' }], disposition: 'errno:EPERM', reason: 'security', note: 'n', onlyIf: { allowNesting: false } },
      ] },
    ]);
    expect(problems).toEqual([]);
  });

  const cases: { what: string; syscalls: unknown; extra?: object; message: RegExp }[] = [
    { what: 'an unknown syscall', syscalls: [{ names: ['getpid', 'no_such_call'], disposition: 'host' }],
      message: /syscalls\[0\] \(getpid, no_such_call\): unknown syscall "no_such_call"/ },
    { what: 'a syscall missing on the ABI it names', syscalls: [{ names: ['socketcall'], abis: ['x86_64'], disposition: 'host' }],
      message: /syscalls\[0\] \(socketcall\): syscall "socketcall" does not exist on x86_64/ },
    { what: 'an unknown handler', syscalls: [{ names: ['uname'], disposition: 'emulate:frobnicate', reason: 'no-equivalent', note: 'n' }],
      message: /syscalls\[0\] \(uname\): unknown handler "frobnicate"/ },
    { what: 'an unknown errno', syscalls: [{ names: ['mount'], disposition: 'errno:EFROB', reason: 'security', note: 'n' }],
      message: /syscalls\[0\] \(mount\): unknown errno "EFROB"/ },
    { what: 'an argument index past the argument count', syscalls: [{ names: ['getpid'], disposition: 'host', rules: [
      { when: [{ arg: 0, op: 'eq', value: 1 }], disposition: 'errno:EPERM', reason: 'security', note: 'n' }] }],
      message: /syscalls\[0\] \(getpid\) rule 0: arg 0 is past getpid's 0 argument\(s\)/ },
    { what: 'contradictory conditions', syscalls: [{ names: ['socket'], disposition: 'host', rules: [
      { when: [{ arg: 0, op: 'eq', value: 'AF_INET' }, { arg: 0, op: 'eq', value: 'AF_INET6' }], disposition: 'errno:EPERM', reason: 'security', note: 'n' }] }],
      message: /syscalls\[0\] \(socket\) rule 0: contradictory, never matches: arg0/ },
    { what: 'a range that allows nothing', syscalls: [{ names: ['socket'], disposition: 'host', rules: [
      { when: [{ arg: 2, op: 'gt', value: 10 }, { arg: 2, op: 'lt', value: 5 }], disposition: 'errno:EPERM', reason: 'security', note: 'n' }] }],
      message: /rule 0: contradictory/ },
    { what: 'a masked_eq value outside its mask', syscalls: [{ names: ['clone'], disposition: 'host', rules: [
      { when: [{ arg: 0, op: 'masked_eq', mask: '0xff', value: '0x100' }], disposition: 'errno:EPERM', reason: 'security', note: 'n' }] }],
      message: /rule 0: contradictory, never matches: arg0: value has bits outside the mask/ },
    { what: 'an unreachable rule', syscalls: [{ names: ['socket'], disposition: 'host', rules: [
      { when: [{ arg: 0, op: 'le', value: 20 }], disposition: 'errno:EPERM', reason: 'security', note: 'n' },
      { when: [{ arg: 0, op: 'eq', value: 'AF_PACKET' }, { arg: 1, op: 'eq', value: 3 }], disposition: 'errno:EACCES', reason: 'security', note: 'n' }] }],
      message: /syscalls\[0\] \(socket\) rule 1: unreachable, syscalls\[0\]\.rules\[0\] already matches/ },
    { what: 'a non-host decision without a reason', syscalls: [{ names: ['mount'], disposition: 'errno:EPERM', note: 'n' }],
      message: /syscalls\[0\] \(mount\): "errno:EPERM" needs a reason and a note/ },
    { what: 'the same syscall twice', syscalls: [{ names: ['mount'], disposition: 'host' }, { names: ['umount2', 'mount'], disposition: 'host' }],
      message: /syscalls\[1\] \(umount2, mount\): "mount" is already decided by syscalls\[0\]/ },
    { what: 'an unknown constant', syscalls: [{ names: ['socket'], disposition: 'host', rules: [
      { when: [{ arg: 0, op: 'eq', value: 'AF_NOPE' }], disposition: 'errno:EPERM', reason: 'security', note: 'n' }] }],
      message: /rule 0: arg 0 value: unknown constant "AF_NOPE"/ },
    { what: 'a value wider than a 32-bit argument', syscalls: [{ names: ['ioctl'], disposition: 'host', rules: [
      { when: [{ arg: 1, op: 'eq', value: '0x100005412' }], disposition: 'errno:EPERM', reason: 'security', note: 'n' }] }],
      message: /value 0x100005412 does not fit the 32-bit arg 1 \(cmd\)/ },
    { what: 'two supervisor handlers for one syscall', syscalls: [{ names: ['uname'], disposition: 'emulate:uname', reason: 'no-equivalent', note: 'n', rules: [
      { when: [{ arg: 0, op: 'eq', value: 0 }], disposition: 'emulate:js', reason: 'not-yet', note: 'n' }] }],
      message: /rules of uname name 2 supervisor handlers/ },
    { what: 'a field the schema does not know', syscalls: [{ names: ['getpid'], disposition: 'host', action: 'allow' }],
      message: /syscalls\[0\] \(getpid\): must NOT have additional properties "action"/ },
    { what: 'an unknown reason', syscalls: [{ names: ['mount'], disposition: 'errno:EPERM', reason: 'because', note: 'n' }],
      message: /syscalls\[0\] \(mount\)\.reason: must be equal to one of the allowed values \(security, host-state/ },
    { what: 'a bad profile default', syscalls: [], extra: { default: { disposition: 'errno:ENOSYS' } },
      message: /default: "errno:ENOSYS" needs a reason and a note/ },
  ];

  for (const c of cases) {
    it(`refuses ${c.what}, naming the file and the rule`, () => {
      const { file, problems } = problemsOf(c.syscalls, c.extra);
      expect(problems.length, problems.join('\n')).toBeGreaterThan(0);
      expect(problems.join('\n')).toMatch(c.message);
      expect(problems.every((p) => p.includes(file))).toBe(true);
    });
  }

  it('throws an LxzoneError with a where from resolveProfile', () => {
    const file = writeProfile([{ names: ['mount'], disposition: 'errno:EFROB', reason: 'security', note: 'n' }]);
    try {
      resolveProfile(file, 'x86_64');
      expect.unreachable('resolveProfile accepted an unknown errno');
    } catch (err) {
      expect(err).toBeInstanceOf(LxzoneError);
      expect((err as LxzoneError).where).toBe(`${file}#syscalls[0]`);
      expect((err as LxzoneError).message).toContain(file);
    }
  });

  it('validates a zone\'s extra rules like a rules file, naming them', () => {
    expect(() => resolveProfile('default', 'x86_64', { extraRules: [{ names: ['mount'], disposition: 'allow' }] as never }))
      .toThrow(/zone rules: syscalls\[0\] \(mount\)\.disposition: must match pattern/);
    expect(() => resolveProfile('default', 'x86_64', { extraRules: 'mount' as never })).toThrow(/zone rules: must be an array/);
    expect(() => resolveProfile('default', 'x86_64', { extraRules: [{ names: ['mount'], disposition: 'errno:EPERM' }] }))
      .toThrow(/zone rules: syscalls\[0\] \(mount\): "errno:EPERM" needs a reason and a note/);
    expect(checkProfile('default', { extraRules: [{ names: ['nope'], disposition: 'host' }] }).join('\n')).toMatch(/zone rules: syscalls\[0\] \(nope\): unknown syscall "nope"/);
  });

  it('refuses a file that is not JSON, naming it', () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{ "profile": ');
    expect(checkProfile(file).join('\n')).toMatch(new RegExp(`${file}: not valid JSON`));
  });

  it('checks rules that only exist under a compile option too', () => {
    const { problems } = problemsOf([{ names: ['clone'], disposition: 'host', rules: [
      { when: [{ arg: 0, op: 'eq', value: 1 }], disposition: 'errno:EWHAT', reason: 'security', note: 'n', onlyIf: { allowNesting: true } }] }]);
    expect(problems.join('\n')).toMatch(/unknown errno "EWHAT"/);
  });

  it('lets an ABI-specific entry override the generic one for that ABI only', () => {
    const profile: Profile = { profile: 't', default: { disposition: 'host' }, syscalls: [
      { names: ['getpid'], disposition: 'errno:EPERM', reason: 'security', note: 'generic' },
      { names: ['getpid'], abis: ['i386'], disposition: 'host' },
    ] };
    expect(resolveProfile(profile, 'x86_64').syscalls.find((s) => s.name === 'getpid')!.disposition).toBe('errno:EPERM');
    expect(resolveProfile(profile, 'i386').syscalls.find((s) => s.name === 'getpid')!.disposition).toBe('host');
  });

  it('derives the compare width from the argument type, and honours an explicit width', () => {
    const profile: Profile = { profile: 't', default: { disposition: 'host' }, syscalls: [
      { names: ['ioctl'], disposition: 'host', rules: [
        { when: [{ arg: 1, op: 'eq', value: 'TIOCSTI' }], disposition: 'errno:EPERM', reason: 'security', note: 'n' },
        { when: [{ arg: 2, op: 'eq', value: 7 }], disposition: 'errno:EACCES', reason: 'security', note: 'n' },
        { when: [{ arg: 2, op: 'eq', value: 9, width: 32 }], disposition: 'errno:EACCES', reason: 'security', note: 'n' },
      ] },
    ] };
    const rules = resolveProfile(profile, 'x86_64').syscalls.find((s) => s.name === 'ioctl')!.rules;
    expect(rules.map((r) => r.when[0]!.width)).toEqual([32, 64, 32]);
  });
});
