// AUDIT_ARCH_* values: what seccomp_data.arch holds for each ABI, the first
// thing every filter checks (linux/audit.h: EM_* | __AUDIT_ARCH_64BIT |
// __AUDIT_ARCH_LE). x32 shares x86_64's value and is told apart by bit 30 of
// the syscall number; it is refused, so it has no table of its own. The
// values are seam/facts.json's, which the supervisor's dispatch reads too.
import { AUDIT_ARCH as SEAM_AUDIT_ARCH } from '../seam.generated.js';
import type { Abi } from './types.js';

export const AUDIT_ARCH = SEAM_AUDIT_ARCH satisfies Record<Abi, { name: string; value: number }>;

/** Bit set in the syscall number by the x32 ABI (__X32_SYSCALL_BIT). */
export const X32_SYSCALL_BIT = 0x40000000;
