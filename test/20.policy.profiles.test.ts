// The shipped profiles: valid, complete for every ABI, and saying what their
// descriptions promise.
import { describe, expect, it } from 'vitest';
import { checkProfile, resolveProfile } from '../src/policy/resolve.js';
import { traceHostCalls, traceListedCalls } from '../src/policy/trace-rules.js';
import { BUILTIN_PROFILES } from '../src/policy/load.js';
import { ABIS, type Abi } from '../src/tables/types.js';
import { loadTable } from '../src/tables/index.js';

const decision = (profile: string, abi: Abi, name: string) => {
  const s = resolveProfile(profile, abi).syscalls.find((x) => x.name === name);
  if (!s) throw new Error(`${name} not in ${abi}`);
  return s;
};

describe('shipped profiles', () => {
  for (const profile of BUILTIN_PROFILES) {
    it(`${profile}: passes every check on every ABI`, () => {
      expect(checkProfile(profile)).toEqual([]);
    });

    it(`${profile}: decides every syscall of every table, with a reason and a note when not host`, () => {
      for (const abi of ABIS) {
        const r = resolveProfile(profile, abi);
        expect(r.syscalls.map((s) => s.nr)).toEqual(loadTable(abi).syscalls.map((s) => s.nr).sort((a, b) => a - b));
        for (const s of r.syscalls) {
          if (s.disposition !== 'host' || s.conditional) expect(s.note, `${profile}/${abi} ${s.name}`).toBeTruthy();
          if (s.disposition !== 'host' && s.disposition !== 'trace') expect(s.reason, `${profile}/${abi} ${s.name}`).toBeTruthy();
        }
      }
    });
  }

  it('default: names every syscall of every table explicitly (the profile default only catches new ones)', () => {
    for (const abi of ABIS) {
      const implicit = resolveProfile('default', abi).syscalls.filter((s) => s.where.endsWith('#default')).map((s) => s.name);
      expect(implicit, `${abi} syscalls left to the profile default`).toEqual([]);
    }
  });

  it('default: the LX emulations, Docker\'s refusals and the zone-confined namespace calls', () => {
    for (const abi of ['x86_64', 'i386', 'aarch64'] as const) {
      expect(decision('default', abi, 'uname').disposition).toBe('emulate:uname');
      expect(decision('default', abi, 'sysinfo').disposition).toBe('emulate:sysinfo');
      expect(decision('default', abi, 'syslog').disposition).toBe('emulate:syslog');
      expect(decision('default', abi, 'reboot').disposition).toBe('emulate:reboot');
      // Namespaces and mounts: confined by the zone's user namespace (issue 21.3).
      // mount and umount2 pass through handlers that serve block images from the zone's loop devices and CONTINUE the rest.
      expect(decision('default', abi, 'mount').disposition).toBe('emulate:mount');
      expect(decision('default', abi, 'umount2').disposition).toBe('emulate:umount');
      for (const name of ['clone', 'clone3', 'unshare', 'pivot_root', 'setns', 'move_mount', 'fsopen',
        'sethostname', 'setdomainname']) {
        expect(decision('default', abi, name).disposition, `${abi} ${name}`).toBe('host');
        expect(decision('default', abi, name).conditional, `${abi} ${name}`).toBe(false);
      }
      for (const name of ['kexec_load', 'init_module', 'finit_module',
        'delete_module', 'bpf', 'perf_event_open', 'open_by_handle_at', 'swapon',
        'settimeofday', 'acct', 'userfaultfd']) {
        const d = decision('default', abi, name);
        expect(d.disposition, `${abi} ${name}`).toBe('errno:EPERM');
      }
      for (const name of ['read', 'write', 'openat', 'mmap', 'futex', 'execve', 'rt_sigaction', 'clock_gettime', 'epoll_pwait']) {
        expect(decision('default', abi, name).disposition, `${abi} ${name}`).toBe('host');
      }
      for (const name of ['ioctl', 'socket', 'personality', 'clock_settime', 'mknodat', 'request_key']) {
        expect(decision('default', abi, name).conditional, `${abi} ${name}`).toBe(true);
      }
    }
    expect(decision('default', 'x86_64', 'iopl').disposition).toBe('errno:EPERM');
  });

  it('default allows nested user namespaces; strict kills them unless the zone allows nesting', () => {
    const refuses = (profile: string, allowNesting: boolean) => resolveProfile(profile, 'x86_64', { allowNesting }).syscalls
      .find((s) => s.name === 'clone')!.rules.some((r) => r.disposition !== 'host');
    expect(refuses('default', false)).toBe(false);
    expect(refuses('strict', false)).toBe(true);
    expect(refuses('strict', true)).toBe(false);
  });

  it('default: AF_PACKET refused unless the zone holds CAP_NET_RAW', () => {
    const packet = (netRaw: boolean) => resolveProfile('default', 'x86_64', { netRaw }).syscalls
      .find((s) => s.name === 'socket')!.rules.filter((r) => r.when.some((c) => c.arg === 0 && c.value === 17n)).length;
    expect(packet(false)).toBe(1);
    expect(packet(true)).toBe(0);
  });

  it('strict: kills what it does not list and raises SIGSYS for unknown numbers', () => {
    const r = resolveProfile('strict', 'x86_64');
    expect(r.unsupported).toBe('sigsys');
    expect(decision('strict', 'x86_64', 'ptrace').disposition).toBe('kill');
    expect(decision('strict', 'x86_64', 'mount').disposition).toBe('kill');
    expect(decision('strict', 'x86_64', 'clone3').disposition).toBe('errno:ENOSYS');
    const hostDefault = resolveProfile('default', 'x86_64').syscalls.filter((s) => s.disposition === 'host').length;
    const hostStrict = r.syscalls.filter((s) => s.disposition === 'host').length;
    expect(hostStrict).toBeLessThan(hostDefault);
  });

  it('permissive: host except what acts on the host kernel', () => {
    const r = resolveProfile('permissive', 'x86_64');
    const nonHost = r.syscalls.filter((s) => s.disposition !== 'host').map((s) => s.name).sort();
    expect(nonHost).toEqual(['acct', 'clock_settime', 'delete_module', 'finit_module', 'init_module', 'ioperm', 'iopl',
      'kexec_file_load', 'kexec_load', 'open_by_handle_at', 'quotactl', 'quotactl_fd', 'reboot', 'settimeofday',
      'swapoff', 'swapon', 'syslog', 'sysinfo', 'uname'].sort());
  });

  it("trace: permissive's decisions, with every call it lets the host run traced", () => {
    for (const abi of ABIS) {
      const trace = resolveProfile('trace', abi);
      const permissive = new Map(resolveProfile('permissive', abi).syscalls.map((s) => [s.name, s.disposition]));
      for (const s of trace.syscalls) {
        const p = permissive.get(s.name)!;
        expect(s.disposition, `${abi} ${s.name}`).toBe(p === 'host' ? 'trace' : p);
      }
      expect(trace.syscalls.find((s) => s.name === 'init_module')?.disposition).toBe('errno:EPERM');
    }
  });

  it('--trace traces what a profile lets the host run and keeps every refusal and emulation', () => {
    for (const abi of ['x86_64', 'i386'] as const) {
      const plain = new Map(resolveProfile('default', abi).syscalls.map((s) => [s.name, s]));
      const traced = resolveProfile('default', abi, { extraRules: traceHostCalls('default', [abi]) });
      for (const s of traced.syscalls) {
        const p = plain.get(s.name)!;
        const swap = (d: string) => (d === 'host' ? 'trace' : d);
        expect(s.disposition, `${abi} ${s.name}`).toBe(p.rules.some((r) => r.disposition.startsWith('emulate:')) ? p.disposition : swap(p.disposition));
        if (!p.rules.some((r) => r.disposition.startsWith('emulate:'))) {
          const bare = (w: typeof s.rules[number]['when']) => w.map(({ arg, op, value, mask, width }) => ({ arg, op, value, mask, width }));
          expect(s.rules.map((r) => [bare(r.when), r.disposition]), `${abi} ${s.name}`).toEqual(p.rules.map((r) => [bare(r.when), swap(r.disposition)]));
        }
      }
      expect(traced.syscalls.find((s) => s.name === 'io_uring_setup')?.disposition).toBe('errno:ENOSYS');
      expect(traced.syscalls.find((s) => s.name === 'openat')?.disposition).toBe('trace');
    }
  });

  it('--trace=LIST traces the listed calls the host runs, names the others with their disposition, refuses unknown names', () => {
    const { rules, skipped } = traceListedCalls('default', ['openat', 'uname', 'init_module']);
    expect(rules).toEqual([{ names: ['openat'], disposition: 'trace', note: 'traced by lxzone run --trace' }]);
    expect(skipped).toEqual([{ name: 'uname', disposition: 'emulate:uname' }, { name: 'init_module', disposition: 'errno:EPERM' }]);
    expect(traceListedCalls('default', ['uname']).rules).toEqual([]);
    expect(() => traceListedCalls('default', ['openat', 'nosuchcall'])).toThrow(/--trace: unknown syscall "nosuchcall"/);
  });
});
