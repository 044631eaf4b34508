// AUDIT_ARCH_* values: what seccomp_data.arch holds for each ABI, the first
// thing every filter checks (linux/audit.h: EM_* | __AUDIT_ARCH_64BIT |
// __AUDIT_ARCH_LE). x32 shares x86_64's value and is told apart by bit 30 of
// the syscall number; it is refused, so it has no table of its own.
import type { Abi } from './types.js';

export const AUDIT_ARCH = {
  x86_64: { name: 'AUDIT_ARCH_X86_64', value: 0xc000003e },
  i386: { name: 'AUDIT_ARCH_I386', value: 0x40000003 },
  aarch64: { name: 'AUDIT_ARCH_AARCH64', value: 0xc00000b7 },
} as const satisfies Record<Abi, { name: string; value: number }>;

/** Bit set in the syscall number by the x32 ABI (__X32_SYSCALL_BIT). */
export const X32_SYSCALL_BIT = 0x40000000;
