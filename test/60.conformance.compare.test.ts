// compareCase: the rules that turn a native run and a zone run into a
// verdict, with the default profile's real decisions (resolveProfile) for
// the refusals. Lines are written out here because the subject is the
// comparison; the kernel-facing half runs in 60.conformance.zone.
import { describe, expect, it } from 'vitest';
import { checkValue, compareCase, profileView, type CaseSpec } from '../src/conformance/index.js';
import { compareProgram } from '../src/conformance/programs.js';
import { caseLine, hasUnexpectedFailures } from '../src/conformance/report.js';
import type { CaseRun, ProbeLine } from '../src/conformance/types.js';
import { resolveProfile } from '../src/policy/index.js';

const line = (syscall: string, ret: number, errno: string | null = null, data: Record<string, unknown> = {}): ProbeLine =>
  ({ case: 'c', syscall, ret, errno, data });
const run = (lines: ProbeLine[], extra: Partial<CaseRun> = {}): CaseRun =>
  ({ lines, invalid: [], exitCode: 0, stderr: '', timedOut: false, ...extra });
const ctx = { profile: profileView('default', 'x86_64'), vars: { kernelVersion: '5.15.0-lxzone', hostname: 'zh' } };

describe('compareCase()', () => {
  it('passes identical runs and fails on any differing field, naming it', () => {
    const native = run([line('openat', 3), line('read', 5, null, { data: 'hello' })]);
    expect(compareCase({}, native, run([line('openat', 3), line('read', 5, null, { data: 'hello' })]), ctx).status).toBe('pass');
    const v = compareCase({}, native, run([line('openat', 3), line('read', 5, null, { data: 'hellO' })]), ctx);
    expect(v.status).toBe('fail');
    expect(v.diffs).toEqual(['line 2 read: data.data: native "hello", zone "hellO"']);
    expect(v.lines.map((l) => l.status)).toEqual(['pass', 'fail']);
  });

  it('expects the profile\'s errno for a refused syscall, whatever the native result', () => {
    // init_module: refused by the default profile (mount no longer is: the kernel confines it to the zone's namespaces).
    const disp = resolveProfile('default', 'x86_64').syscalls.find((s) => s.name === 'init_module')!.disposition;
    expect(disp).toMatch(/^errno:/);
    const errno = disp.slice('errno:'.length);
    const native = run([line('init_module', 0), line('getpid', 4)]);
    const ok = compareCase({ ignore: ['getpid.ret'] }, native, run([line('init_module', -1, errno), line('getpid', 2)]), ctx);
    expect(ok.status).toBe('pass');
    expect(ok.lines[0]!.status).toBe('refused');
    const wrong = compareCase({ ignore: ['getpid.ret'] }, native, run([line('init_module', -1, 'ENOSYS'), line('getpid', 2)]), ctx);
    expect(wrong.status).toBe('fail');
    expect(wrong.diffs[0]).toContain(`expected -1 ${errno} (profile default: ${disp})`);
  });

  it('applies zone checks with ${} settings and comparisons, per occurrence', () => {
    const spec: CaseSpec = { zone: [
      { syscall: 'uname', nth: 1, data: { release: '${kernelVersion}' } },
      { syscall: 'sysinfo', data: { procs: { lte: 5 } } },
    ] };
    const native = run([line('uname', 0, null, { release: '6.18', machine: 'x86_64' }), line('uname', -1, 'EFAULT'), line('sysinfo', 0, null, { procs: 300 })]);
    const zone = run([line('uname', 0, null, { release: '5.15.0-lxzone', machine: 'x86_64' }), line('uname', -1, 'EFAULT'), line('sysinfo', 0, null, { procs: 3 })]);
    expect(compareCase(spec, native, zone, ctx).status).toBe('pass');
    const bad = run([line('uname', 0, null, { release: '6.18', machine: 'i686' }), line('uname', -1, 'EFAULT'), line('sysinfo', 0, null, { procs: 9 })]);
    expect(compareCase(spec, native, bad, ctx).diffs).toEqual([
      'line 1 uname: data.release: zone "6.18", expected "5.15.0-lxzone"',
      'line 1 uname: data.machine: native "x86_64", zone "i686"',
      'line 3 sysinfo: data.procs: zone 9, expected <= 5',
    ]);
  });

  it('fails on missing or extra lines and on a different end', () => {
    const native = run([line('a', 0), line('b', 0)]);
    expect(compareCase({}, native, run([line('a', 0)]), ctx).diffs[0]).toMatch(/line 2 missing in the zone/);
    expect(compareCase({}, native, run([line('a', 0), line('b', 0), line('c', 0)]), ctx).diffs[0]).toMatch(/line 3 only in the zone/);
    expect(compareCase({}, native, run([line('a', 0), line('b', 0)], { exitCode: null, signal: 'SIGSEGV' }), ctx).diffs)
      .toEqual(['probe ended differently: native exit 0, zone killed by SIGSEGV']);
    expect(compareCase({}, native, run([], { timedOut: true }), ctx).reason).toBe('zone run: timed out');
    expect(compareCase({}, native, run([], { invalid: ['garbage'] }), ctx).reason).toMatch(/not probe results, first: garbage/);
  });

  it('needs an expectation for every line of a zone-only case', () => {
    const spec: CaseSpec = { zoneOnly: true, zone: [{ syscall: 'reboot', ret: -1, errno: 'EINVAL' }] };
    expect(compareCase(spec, undefined, run([line('reboot', -1, 'EINVAL')]), ctx).status).toBe('pass');
    const v = compareCase(spec, undefined, run([line('reboot', -1, 'EINVAL'), line('getpid', 2)]), ctx);
    expect(v.diffs).toEqual(['line 2 getpid: no expectation in the manifest for a zone-only line (getpid -> 2)']);
    expect(compareCase(spec, undefined, run([]), ctx).diffs).toEqual(['manifest expects a reboot line the probe did not print']);
  });

  it('ignores only the fields the manifest names', () => {
    const native = run([line('getppid', 812, null, { x: 1 })]);
    const zone = run([line('getppid', 1, null, { x: 2 })]);
    expect(compareCase({ ignore: ['getppid.ret'] }, native, zone, ctx).diffs).toEqual(['line 1 getppid: data.x: native 1, zone 2']);
    expect(compareCase({ ignore: ['*.ret', 'getppid.data'] }, native, zone, ctx).status).toBe('pass');
  });
});

describe('checkValue()', () => {
  it('implements each comparison', () => {
    const vars = { kernelVersion: '5.15.0' };
    expect(checkValue('${kernelVersion}', '5.15.0', vars)).toBeNull();
    expect(checkValue({ gte: 2 }, 1, vars)).toBe('>= 2');
    expect(checkValue({ ne: 0 }, 0, vars)).toBe('not 0');
    expect(checkValue({ re: '^5\\.' }, '5.15', vars)).toBeNull();
    expect(checkValue({ oneOf: [null, 'EBADF'] }, 'EPERM', vars)).toBe('one of [null,"EBADF"]');
    expect(checkValue({ any: true }, undefined, vars)).toBe('a value');
  });
});

describe('compareCase() precedence', () => {
  it('lets the profile\'s refusal win over a manifest check for the same line', () => {
    // Any call the default profile refuses outright (no argument rules): kexec_load, say.
    const refused = resolveProfile('default', 'x86_64').syscalls.find((s) => s.rules.length === 0 && s.disposition === 'errno:EPERM')!;
    const errno = refused.disposition.slice('errno:'.length);
    const spec: CaseSpec = { zone: [{ syscall: refused.name, ret: -1, errno: 'ENOTSUP-from-manifest' }] };
    const v = compareCase(spec, run([line(refused.name, 0)]), run([line(refused.name, -1, errno)]), ctx);
    expect(v.status).toBe('pass');
    expect(v.lines[0]!.status).toBe('refused');
  });
});

describe('compareCase() per ABI', () => {
  it('applies a check only on the ABIs it names, and does not miss it elsewhere', () => {
    const spec: CaseSpec = { zone: [{ syscall: 'statfs64', data: { type: 1 }, abis: ['i386'] }] };
    const n = run([line('statfs', 0, null, { type: 2 })]);
    expect(compareCase(spec, n, run([line('statfs', 0, null, { type: 2 })]), ctx).status).toBe('pass');
    const i386 = { profile: profileView('default', 'i386'), vars: {} };
    expect(compareCase(spec, run([line('statfs64', 0, null, { type: 2 })]), run([line('statfs64', 0, null, { type: 1 })]), i386).status).toBe('pass');
    expect(compareCase(spec, run([]), run([]), i386).diffs).toEqual(['manifest expects a statfs64 line the probe did not print']);
  });

  describe('a syscall whose disposition depends on its arguments', () => {
    const AF_INET6 = '0xa', SOCK_DGRAM_CLOEXEC = '0x80002', AF_PACKET = '0x11', SOCK_RAW = '0x3';
    const sock = (ret: number, errno: string | null, args: string[]) => line('socket', ret, errno, { what: 'x', args });

    it('is a refusal only when the rule its arguments match refuses it (a filter refusing AF_INET6 datagrams is a failure)', () => {
      const args = [AF_INET6, SOCK_DGRAM_CLOEXEC, '0x0'];
      const v = compareCase({}, run([sock(0, null, args)]), run([sock(-1, 'EPERM', args)]), ctx);
      expect(v.status).toBe('fail');
      expect(v.diffs[0]).toBe('line 1 socket: ret: native 0, zone -1');
      const packet = [AF_PACKET, SOCK_RAW, '0x0'];
      const refused = compareCase({}, run([sock(0, null, packet)]), run([sock(-1, 'EPERM', packet)]), ctx);
      expect(refused.status).toBe('pass');
      expect(refused.lines[0]!.status).toBe('refused');
      const leaked = compareCase({}, run([sock(0, null, packet)]), run([sock(0, null, packet)]), ctx);
      expect(leaked.status).toBe('fail');
      expect(leaked.diffs[0]).toMatch(/^line 1 socket: zone socket -> 0 .*, expected -1 EPERM \(.*default\.json#syscalls\[\d+\]\.rules\[\d+\] matches its arguments\)$/);
    });

    it('without recorded arguments, an errno the native run did not give is a failure, not a refusal', () => {
      const v = compareCase({}, run([line('socket', 0)]), run([line('socket', -1, 'EPERM')]), ctx);
      expect(v.status).toBe('fail');
      expect(v.lines[0]!.status).toBe('fail');
    });

    it('fails when the zone made the call with other arguments than the native run', () => {
      const v = compareCase({}, run([sock(0, null, [AF_INET6, SOCK_DGRAM_CLOEXEC, '0x0'])]), run([sock(-1, 'EPERM', [AF_PACKET, SOCK_RAW, '0x0'])]), ctx);
      expect(v.status).toBe('fail');
      expect(v.diffs[0]).toMatch(/other arguments in the zone/);
    });
  });

  it('compares nothing when the native run could not run the case (probe exit 2 or 3)', () => {
    const v = compareCase({}, run([], { exitCode: 3, stderr: 'cannot make the case directory' }), run([]), ctx);
    expect(v.status).toBe('fail');
    expect(v.reason).toMatch(/^native run did not succeed \(exit 3: cannot make the case directory\)/);
  });
});

describe('programs and known failures', () => {
  const raw = (stdout: string, exitCode: number, stderr = '') => ({ stdout, stderr, exitCode, timedOut: false });

  it('a program that fails natively fails the case, even when the zone fails the same way', () => {
    expect(compareProgram(raw('', 1, 'no such table'), raw('', 1, 'no such table'))).toEqual([
      'native run did not succeed (exit 1: no such table); the zone run is not compared',
    ]);
    expect(compareProgram(raw('ok\n', 0), raw('ok\n', 0))).toEqual([]);
  });

  it('a known failure that passes fails the run and says to remove the entry', () => {
    const c = { id: 'probe_x/y', abi: 'x86_64' as const, kind: 'probe' as const, durationMs: 1, status: 'pass' as const, diffs: [], lines: [], fixed: true };
    const file = { cases: [c] } as unknown as Parameters<typeof hasUnexpectedFailures>[0];
    expect(hasUnexpectedFailures(file)).toBe(true);
    expect(caseLine(c)).toMatch(/UNEXPECTED PASS .*remove the entry/);
    expect(hasUnexpectedFailures({ cases: [{ ...c, fixed: undefined }] } as unknown as typeof file)).toBe(false);
  });
});
