// The shape of syscall-tables/linux/<abi>.json: the Linux ABI as data.
// Every consumer (BPF compiler, dispatch table, coverage report, docs,
// trace decoder) reads these types; nothing else lists syscall names.

export const ABIS = ['x86_64', 'i386', 'aarch64'] as const;
export type Abi = (typeof ABIS)[number];

export const SYSCALL_CLASSES = [
  'file', 'process', 'memory', 'network', 'signal', 'ipc', 'time',
  'identity', 'polling', 'io', 'system', 'security', 'module', 'namespace', 'other',
] as const;
export type SyscallClass = (typeof SYSCALL_CLASSES)[number];

/**
 * One argument register, in seccomp_data.args order. Where i386 passes a
 * 64-bit value in two registers, both halves are listed (e.g. pos_lo, pos_hi).
 */
export interface SyscallArg {
  /** Argument name as in the kernel's SYSCALL_DEFINE (e.g. "dfd"). */
  name: string;
  /** C type as in the kernel's SYSCALL_DEFINE, without __user (e.g. "const char *"). */
  type: string;
}

export interface SyscallEntry {
  nr: number;
  name: string;
  args: SyscallArg[];
  class: SyscallClass;
  /** Where the entry came from: "uapi" (installed headers) or "overlay:<linux version>". */
  source: string;
  /** Kernel entry point this number runs (e.g. "sys_newstat"); "sys_ni_syscall" when there is none. */
  entry?: string;
  /** Set when the kernel itself answers ENOSYS for this number on a 64-bit host, with why. */
  unimplemented?: string;
  /** The same kernel function under its usual (x86_64) name: chown32 -> chown, clock_gettime64 -> clock_gettime. */
  variantOf?: string;
  /** i386's multiplexers (socketcall, ipc): the argument that selects the operation, and the operations. */
  multiplexer?: SyscallMultiplexer;
}

export interface SyscallMultiplexer {
  /** Index into seccomp_data.args of the selector. */
  arg: number;
  calls: { value: number; name: string }[];
}

export interface SyscallHole {
  nr: number;
  reason: string;
}

export interface SyscallTable {
  abi: Abi;
  /** AUDIT_ARCH_* value that seccomp_data.arch carries for this ABI. */
  auditArch: number;
  auditArchName: string;
  /** Highest syscall number in the table. */
  maxNr: number;
  generatedFrom: string[];
  syscalls: SyscallEntry[];
  holes: SyscallHole[];
}
