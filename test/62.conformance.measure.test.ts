// The broad measurement (issue 21, "Measure it yourselves"): third-party
// suites from Debian (Python's regression tests, stress-ng) run natively and
// in a default zone and compared per case. Here the focused subset: every
// case that passes natively passes in a zone, or its difference is listed
// with a reason; the unittest parser reads verdicts that come after a test's
// own output; the per-syscall verdicts reach `lxzone syscalls`' input.
import { describe, expect, it } from 'vitest';
import { differences, measure, measuredSyscalls, rates, type Measurement } from '../src/conformance/measure/measure.js';
import { withMeasured } from '../src/conformance/measure/feed.js';
import { parseUnittest, SUITES } from '../src/conformance/measure/suites.js';

describe('parseUnittest', () => {
  it('reads verdicts on the same line, after output lines, and skips; only dotted ids are cases', () => {
    const text = [
      '0:00:00 [1/1] test_x',
      'test_a (test.test_x.T.test_a) ... ok',
      'test_b (test.test_x.T.test_b) ... Status from fcntl:  0',
      "String: b'\\x01 ok'",
      'ok',
      'test_c (test.test_x.T.test_c) ... skipped "needs macOS"',
      'test_d (test.test_x.T.test_d)',
      'A docstring line ... FAIL',
      'test_e (test.test_x.T.test_e) ... ERROR',
      'test_f (test.test_x.T.test_f) ... expected failure',
      // A test's own output that looks like a case line: a pid is no case id.
      'thread (17572) ... ok',
    ].join('\n');
    expect([...parseUnittest(text)]).toEqual([
      ['test.test_x.T.test_a', 'pass'],
      ['test.test_x.T.test_b', 'pass'],
      ['test.test_x.T.test_c', 'skip'],
      ['test.test_x.T.test_d', 'fail'],
      ['test.test_x.T.test_e', 'fail'],
      ['test.test_x.T.test_f', 'pass'],
    ]);
  });
});

describe('the measurement feeds lxzone syscalls', () => {
  it('a syscall passes only if every natively passing case of it passes in a zone, and the probes agree', () => {
    const m: Measurement = {
      version: 1, date: '', kernel: '', quick: true,
      suites: {
        'stress-ng': {
          units: 3,
          cases: {
            'stress-ng/dup': { native: 'pass', zone: 'pass', syscall: 'dup' },
            'stress-ng/sysfs': { native: 'pass', zone: 'fail', syscall: 'sysfs' },
            'stress-ng/chroot': { native: 'fail', zone: 'fail', syscall: 'chroot' },
          },
        },
      },
    };
    expect(measuredSyscalls(m)).toEqual({ dup: { exercised: true, passed: true }, sysfs: { exercised: true, passed: false } });
    const merged = withMeasured({ version: 1, syscalls: { x86_64: { dup: { exercised: true, passed: false } } } }, 'x86_64', measuredSyscalls(m));
    expect(merged!.syscalls.x86_64).toEqual({ dup: { exercised: true, passed: false }, sysfs: { exercised: true, passed: false } });
    expect(rates(m)).toEqual({ nativePass: 2, zonePass: 1 });
  });
});

describe('measure (quick subset, real zones)', () => {
  it('every case that passes natively passes in a zone, or is a listed difference', async () => {
    const m = await measure({ quick: true, bwrap: false });
    for (const s of SUITES) {
      // .ci/run installs both suites: a missing one is a broken setup, not a pass.
      expect(m.suites[s.name]!.skipped).toBeUndefined();
    }
    const r = rates(m);
    expect(r.nativePass).toBeGreaterThan(20);
    const unexplained = differences(m).filter((d) => !d.diff);
    expect(unexplained).toEqual([]);
  }, 600_000);
});
