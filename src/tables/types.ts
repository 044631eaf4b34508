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

export interface SyscallArg {
  /** Argument name as in the kernel's SYSCALL_DEFINE (e.g. "dfd"). */
  name: string;
  /** C type as in the kernel's SYSCALL_DEFINE (e.g. "const char __user *"). */
  type: string;
}

export interface SyscallEntry {
  nr: number;
  name: string;
  args: SyscallArg[];
  class: SyscallClass;
  /** Where the entry came from: "uapi" (installed headers) or "overlay:<linux version>". */
  source: string;
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
