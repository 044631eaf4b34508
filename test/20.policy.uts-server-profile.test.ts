// The uts-server profile (syscall-tables/rules/uts-server.json): the filter
// of lxzone-utsfs, the keeper's FUSE server of a zone's
// /proc/sys/kernel/hostname and domainname. Its allow list is exactly what
// the serving loop calls (a change to it is a reviewed change of this test),
// nothing notifies (no supervisor serves it), and it is compiled for the
// host's native ABI only. The kernel's verdicts on these bytes and the live
// server running under them are in test/70.security.uts-server-filter.
import { describe, expect, it } from 'vitest';
import { decodeProgram, describeAction, SECCOMP_RET_ACTION_FULL, SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_USER_NOTIF } from '../src/policy/bpf.js';
import { compilePolicy } from '../src/policy/compile.js';
import { runFilter } from '../src/policy/interpret.js';
import { checkProfile, resolveProfile } from '../src/policy/resolve.js';
import { UTS_SERVER_PROFILE, utsServerFilter, utsServerFilterInput } from '../src/policy/uts-server-filter.js';
import { loadTable } from '../src/tables/index.js';
import { ABIS } from '../src/tables/types.js';

const enosys = 'ERRNO(38)';

describe('the uts-server profile', () => {
  it('passes every check on every ABI, never notifies, and gives every refusal a reason and a note', () => {
    expect(checkProfile(UTS_SERVER_PROFILE)).toEqual([]);
    for (const abi of ABIS) {
      const r = resolveProfile(UTS_SERVER_PROFILE, abi);
      expect(r.notify).toBe(false);
      for (const s of r.syscalls) if (s.disposition !== 'host') expect(s.reason && s.note, `${abi} ${s.name}`).toBeTruthy();
    }
  });

  it('lets the host run exactly what the serving loop calls; a few calls only with their arguments checked', () => {
    for (const abi of ['x86_64', 'aarch64'] as const) {
      const r = resolveProfile(UTS_SERVER_PROFILE, abi);
      const host = r.syscalls.filter((s) => s.disposition === 'host' && !s.conditional).map((s) => s.name).sort();
      const conditional = r.syscalls.filter((s) => s.conditional).map((s) => `${s.name} ${s.disposition} unless ${s.rules.map((x) => x.disposition).join('/')}`).sort();
      const legacy = abi === 'x86_64' ? ['poll'] : []; // aarch64 has only ppoll
      expect(host, abi).toEqual([
        'brk', 'clock_gettime', 'close', 'exit', 'exit_group', 'madvise', 'mremap', 'munmap', ...legacy, 'ppoll', 'read', 'restart_syscall',
        'rt_sigreturn', 'setdomainname', 'sethostname', 'uname', 'write', 'writev',
      ].sort());
      expect(conditional, abi).toEqual([
        'mmap errno:EPERM unless host', 'mprotect errno:EPERM unless host', 'pidfd_open errno:EPERM unless host/host', 'setns errno:EPERM unless host',
      ]);
      // What a taken-over server must not reach: files, exec, other processes, mounts, namespaces, sockets, new code.
      const d = (name: string) => r.syscalls.find((s) => s.name === name)?.disposition;
      for (const name of ['openat', 'execve', 'execveat', 'ptrace', 'process_vm_readv', 'process_vm_writev', 'kill', 'tgkill', 'pidfd_send_signal',
        'pidfd_getfd', 'mount', 'umount2', 'fsopen', 'move_mount', 'open_tree', 'pivot_root', 'unshare', 'clone', 'clone3', 'socket', 'connect',
        'io_uring_setup', 'bpf', 'userfaultfd', 'memfd_create', 'ioctl', 'prctl', 'seccomp', 'capset', 'setresuid', 'keyctl']) {
        expect({ name, d: d(name) }).toEqual({ name, d: 'errno:ENOSYS' });
      }
    }
  });

  it('compiles to a program that never notifies and is for the host\'s native ABI only', () => {
    expect(utsServerFilterInput(['x86_64', 'i386']).abis).toEqual(['x86_64']);
    expect(utsServerFilter().equals(compilePolicy(utsServerFilterInput()).bpf)).toBe(true);
    const prog = decodeProgram(utsServerFilter());
    const rets = prog.filter((i) => i.code === 0x06).map((i) => (i.k & SECCOMP_RET_ACTION_FULL) >>> 0);
    expect(rets).not.toContain(SECCOMP_RET_USER_NOTIF);
    const abi = utsServerFilterInput().abis![0]!;
    const t = loadTable(abi);
    const known = new Set(t.syscalls.map((s) => s.nr));
    for (let nr = 0; nr <= t.maxNr + 3; nr++) {
      if (!known.has(nr)) expect(describeAction(runFilter(prog, { nr, arch: t.auditArch }).ret), `${abi} hole ${nr}`).toBe(enosys);
    }
    if (process.arch !== 'x64') return;
    const nrOf = (a: 'x86_64' | 'i386', name: string) => loadTable(a).syscalls.find((s) => s.name === name)!.nr;
    expect(runFilter(prog, { nr: nrOf('i386', 'uname'), arch: loadTable('i386').auditArch }).ret).toBe(SECCOMP_RET_KILL_PROCESS);
    expect(describeAction(runFilter(prog, { nr: nrOf('x86_64', 'uname'), arch: t.auditArch }).ret)).toBe('ALLOW');
  });
});
