// The rule language: the shape of syscall-tables/rules/<profile>.json as
// written (values may be symbolic) and as resolved for one ABI (numbers only).
import type { ParsedDisposition } from './disposition.js';
import type { Abi } from '../tables/types.js';

/** Why a syscall is not simply executed by the host (after illumos LX). */
export const REASONS = ['security', 'host-state', 'no-equivalent', 'obsolete', 'not-yet'] as const;
export type Reason = (typeof REASONS)[number];

export const OPS = ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'masked_eq'] as const;
export type Op = (typeof OPS)[number];

/** Compile-time options a rule can depend on (`onlyIf`). */
export const RULE_OPTIONS = ['allowNesting', 'netRaw'] as const;
export type RuleOption = (typeof RULE_OPTIONS)[number];

/** A number, "0x…", "NAME", "NAME|NAME|0x10", or any of these with a comment. */
export type RawValue = number | string | { value: number | string; comment?: string };

export interface RuleCondition {
  /** Argument index, 0-based. */
  arg: number;
  op: Op;
  value: RawValue;
  /** Only for masked_eq: (arg & mask) == value. */
  mask?: RawValue;
  /** Compare the low 32 bits only (32) or the full 64-bit value (64). Default: from the argument's C type. */
  width?: 32 | 64;
  comment?: string;
}

export interface Rule {
  /** Conditions, all of which must hold (AND). */
  when: RuleCondition[];
  disposition: string;
  reason?: Reason;
  note?: string;
  comment?: string;
  /** The rule exists only when these compile options have these values. */
  onlyIf?: Partial<Record<RuleOption, boolean>>;
}

export interface SyscallRules {
  names: string[];
  /** Only for these ABIs (default: every ABI whose table has the name). */
  abis?: Abi[];
  /** The disposition when no rule matches (or when there are no rules). */
  disposition: string;
  reason?: Reason;
  note?: string;
  comment?: string;
  /** Ordered; the first rule whose conditions all hold decides. */
  rules?: Rule[];
}

export interface ProfileDefault {
  disposition: string;
  reason?: Reason;
  note?: string;
  comment?: string;
}

/** One rules file = one profile. */
export interface Profile {
  $schema?: string;
  profile: string;
  comment?: string;
  /** Start from this profile; this file's entries replace the base's per syscall. */
  extends?: string;
  /** What an unknown syscall number does: ENOSYS + event, or SIGSYS (dispatch flag bit 0). */
  unsupported?: 'enosys' | 'sigsys';
  /**
   * false: no supervisor serves this profile's filter (the FUSE driver's,
   * fuse-driver.json): unknown numbers are refused by the filter itself with
   * ENOSYS, and no decision may notify (emulate:, trace). Default true.
   */
  notify?: boolean;
  /** The disposition of every syscall no entry names. */
  default: ProfileDefault;
  syscalls: SyscallRules[];
}

// ---- resolved (one ABI, numeric) ----

export interface Condition {
  arg: number;
  op: Op;
  /** 64-bit values; for width 32 both are within 0..0xffffffff. */
  value: bigint;
  mask: bigint;
  width: 32 | 64;
  comment?: string;
}

export interface ResolvedRule {
  when: Condition[];
  disposition: string;
  /** The disposition parsed, once, when the profile was resolved: what every consumer reads. */
  action: ParsedDisposition;
  reason?: Reason;
  note?: string;
  comment?: string;
  /** file#syscalls[i].rules[j], for messages. */
  where: string;
}

export interface ResolvedSyscall {
  nr: number;
  name: string;
  /** The disposition when no rule matches: the syscall's own, or the profile default. */
  disposition: string;
  /** The disposition parsed, once, when the profile was resolved: what every consumer reads. */
  action: ParsedDisposition;
  /** True when argument-conditioned rules exist. */
  conditional: boolean;
  rules: ResolvedRule[];
  reason?: Reason;
  note?: string;
  /** Where the decision comes from: file#syscalls[i], or file#default. */
  where: string;
}

export interface ResolvedProfile {
  profile: string;
  abi: Abi;
  auditArch: number;
  unsupported: 'enosys' | 'sigsys';
  /** false: nothing serves the filter's notifications (Profile.notify); unknown numbers are ERRNO(ENOSYS). */
  notify: boolean;
  /** One entry per syscall of the ABI's table, in number order (holes are not listed). */
  syscalls: ResolvedSyscall[];
}

export interface PolicyOptions {
  allowNesting?: boolean;
  /** The zone holds CAP_NET_RAW (rules with onlyIf.netRaw: packet sockets). */
  netRaw?: boolean;
  /** A zone's own rules, applied over the profile (they replace its entries per syscall). */
  extraRules?: SyscallRules[];
}
