// The fuse-driver profile (syscall-tables/rules/fuse-driver.json): the filter
// of the FUSE drivers the supervisor starts for a zone's block-image mounts.
// No supervisor serves a driver's notifications, so the profile says
// `notify: false`: the checker refuses any decision that would notify, and
// the compiler refuses unknown numbers in the filter itself. The kernel's
// verdicts on these bytes and the driver actually running under them are in
// test/52.supervisor.fuse-driver-filter.
import { describe, expect, it } from 'vitest';
import {
  decodeProgram, describeAction, SECCOMP_RET_ACTION_FULL, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_USER_NOTIF,
  X32_SYSCALL_BIT,
} from '../src/policy/bpf.js';
import { compilePolicy } from '../src/policy/compile.js';
import { DRIVER_PROFILE, driverFilter, driverFilterInput } from '../src/policy/driver-filter.js';
import { runFilter } from '../src/policy/interpret.js';
import { checkProfile, resolveProfile } from '../src/policy/resolve.js';
import type { Profile } from '../src/policy/types.js';
import { loadTable } from '../src/tables/index.js';
import { ABIS } from '../src/tables/types.js';

const ENOSYS = 38;
const enosys = describeAction((SECCOMP_RET_ERRNO | ENOSYS) >>> 0);

describe('the fuse-driver profile', () => {
  it('passes every check on every ABI and decides every syscall, with a reason and a note when not host', () => {
    expect(checkProfile(DRIVER_PROFILE)).toEqual([]);
    for (const abi of ABIS) {
      const r = resolveProfile(DRIVER_PROFILE, abi);
      expect(r.notify).toBe(false);
      expect(r.syscalls.map((s) => s.nr)).toEqual(loadTable(abi).syscalls.map((s) => s.nr).sort((a, b) => a - b));
      for (const s of r.syscalls) if (s.disposition !== 'host') expect(s.reason && s.note, `${abi} ${s.name}`).toBeTruthy();
    }
  });

  it('refuses what a taken-over driver must not reach; keeps what the drivers call', () => {
    for (const abi of ['x86_64', 'aarch64'] as const) {
      const d = (name: string) => resolveProfile(DRIVER_PROFILE, abi).syscalls.find((s) => s.name === name);
      for (const name of ['io_uring_setup', 'io_uring_enter', 'io_uring_register', 'clone3'])
        expect(d(name)?.disposition, `${abi} ${name}`).toBe('errno:ENOSYS');
      for (const name of ['userfaultfd', 'bpf', 'perf_event_open', 'keyctl', 'add_key', 'request_key', 'ptrace',
        'process_vm_readv', 'process_vm_writev', 'kexec_load', 'kexec_file_load', 'init_module', 'finit_module',
        'fsopen', 'fsmount', 'open_tree', 'move_mount', 'mount_setattr', 'pivot_root', 'unshare', 'setns']) {
        const s = d(name);
        if (s) expect({ name, d: s.disposition, conditional: s.conditional }).toEqual({ name, d: 'errno:EPERM', conditional: false });
      }
      // clone and mount: allowed only without namespace flags / with plain mount options.
      expect(d('clone')?.disposition).toBe('errno:EPERM');
      expect(d('clone')?.rules.map((r) => r.disposition)).toEqual(['host']);
      expect(d('mount')?.disposition).toBe('errno:EPERM');
      expect(d('mount')?.rules.map((r) => r.disposition)).toEqual(['host']);
      // What strace -f showed fuse2fs, fusefat, squashfuse, ntfs-3g, fuseiso and exfat-fuse call.
      for (const name of ['read', 'pread64', 'pwrite64', 'writev', 'openat', 'newfstatat', 'getdents64', 'readlink', 'lseek',
        'mmap', 'mprotect', 'munmap', 'madvise', 'brk', 'futex', 'set_robust_list', 'rseq', 'rt_sigaction', 'rt_sigprocmask',
        'poll', 'fsync', 'fcntl', 'ioctl', 'prctl', 'prlimit64', 'getrandom', 'uname', 'umount2', 'exit', 'exit_group', 'execve',
        'wait4', 'socketpair', 'sendmsg', 'recvmsg', 'setresuid', 'setresgid', 'setgroups', 'umask', 'chdir', 'getcwd']) {
        const s = d(name);
        if (abi === 'aarch64' && !s) continue; // legacy calls aarch64 does not have
        expect({ name, d: s?.disposition }).toEqual({ name, d: s?.conditional ? s.disposition : 'host' });
      }
    }
  });

  it('compiles to a program that never notifies: holes, numbers past the table and x32 get ENOSYS from the filter', () => {
    const compiled = compilePolicy({ profile: DRIVER_PROFILE, abis: ['x86_64', 'i386'] });
    const prog = decodeProgram(compiled.bpf);
    const rets = prog.filter((i) => i.code === 0x06).map((i) => (i.k & SECCOMP_RET_ACTION_FULL) >>> 0);
    expect(rets).not.toContain(SECCOMP_RET_USER_NOTIF);
    for (const abi of ['x86_64', 'i386'] as const) {
      const t = loadTable(abi);
      const known = new Set(t.syscalls.map((s) => s.nr));
      for (let nr = 0; nr <= t.maxNr + 3; nr++) {
        if (known.has(nr)) continue;
        expect(describeAction(runFilter(prog, { nr, arch: t.auditArch }).ret), `${abi} hole ${nr}`).toBe(enosys);
      }
      for (const nr of [0x7fffffff, 0xffffffff]) expect(describeAction(runFilter(prog, { nr, arch: t.auditArch }).ret)).toBe(enosys);
    }
    expect(describeAction(runFilter(prog, { nr: X32_SYSCALL_BIT | 39, arch: loadTable('x86_64').auditArch }).ret)).toBe(enosys);
  });

  it('is compiled for the host\'s native ABI only: the drivers are the host\'s binaries, any other arch is killed', () => {
    expect(driverFilterInput(['x86_64', 'i386']).abis).toEqual(['x86_64']);
    expect(driverFilter().equals(compilePolicy(driverFilterInput()).bpf)).toBe(true);
    if (process.arch !== 'x64') return;
    const prog = decodeProgram(driverFilter());
    const getpid = (abi: 'x86_64' | 'i386') => loadTable(abi).syscalls.find((s) => s.name === 'getpid')!.nr;
    expect(runFilter(prog, { nr: getpid('i386'), arch: loadTable('i386').auditArch }).ret).toBe(SECCOMP_RET_KILL_PROCESS);
    expect(describeAction(runFilter(prog, { nr: getpid('x86_64'), arch: loadTable('x86_64').auditArch }).ret)).toBe('ALLOW');
  });
});

describe('notify: false', () => {
  const base: Profile = {
    profile: 'unserved', notify: false, default: { disposition: 'errno:ENOSYS', reason: 'security', note: 'n' },
    syscalls: [{ names: ['read'], disposition: 'host' }],
  };

  it('refuses a decision that would notify, naming the syscall and the rule', () => {
    const emulate: Profile = { ...base, syscalls: [...base.syscalls, { names: ['uname'], disposition: 'emulate:uname', reason: 'no-equivalent', note: 'n' }] };
    expect(checkProfile(emulate).join('\n')).toMatch(/uname: "emulate:uname" needs a supervisor, and unserved's filter has none \(notify: false\)/);
    const traced: Profile = {
      ...base,
      syscalls: [...base.syscalls, { names: ['ioctl'], disposition: 'host', rules: [{ when: [{ arg: 1, op: 'eq', value: 1 }], disposition: 'trace', note: 'n' }] }],
    };
    expect(checkProfile(traced).join('\n')).toMatch(/syscalls\[1\]\.rules\[0\]: ioctl: "trace" needs a supervisor/);
    expect(checkProfile({ ...base, default: { disposition: 'trace', note: 'n' } }).join('\n')).toMatch(/"trace" needs a supervisor/);
    expect(checkProfile(base)).toEqual([]);
  });

  it('is true unless said: a zone profile\'s unknown numbers still reach the supervisor', () => {
    expect(resolveProfile('default', 'x86_64').notify).toBe(true);
    const prog = decodeProgram(compilePolicy({ profile: 'default', abis: ['x86_64'] }).bpf);
    expect(runFilter(prog, { nr: 1000, arch: loadTable('x86_64').auditArch }).ret).toBe(SECCOMP_RET_USER_NOTIF);
  });
});
