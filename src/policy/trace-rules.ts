// `lxzone run --trace` (no list): every call the profile lets the host run is
// recorded, and nothing else changes. The profile's refusals and emulations
// stay as they are, so tracing never widens what a zone may do (it once
// switched to the trace profile, which let io_uring and keyctl through).
//
// Built as zone rules (one entry per syscall and ABI) from the resolved
// profile: a plain "host" becomes "trace"; a conditional entry is copied with
// each of its "host" outcomes made "trace" and its refusals kept, in order.
// A syscall with a supervisor handler keeps its dispatch (one handler per
// syscall number), so it is answered by its handler, not recorded.
import type { Abi } from '../tables/types.js';
import { resolveProfile, type ResolveOptions } from './resolve.js';
import type { Condition, ResolvedSyscall, RuleCondition, SyscallRules, Rule } from './types.js';

const NOTE = 'traced by lxzone run --trace (the profile lets the host run it)';

const hex = (v: bigint): string => `0x${v.toString(16)}`;

function rawCondition(c: Condition): RuleCondition {
  return { arg: c.arg, op: c.op, value: hex(c.value), width: c.width, ...(c.op === 'masked_eq' ? { mask: hex(c.mask) } : {}) };
}

function traced(disposition: string, reason: ResolvedSyscall['reason'], note: string | undefined): Pick<Rule, 'disposition' | 'reason' | 'note'> {
  if (disposition === 'host') return { disposition: 'trace', note: NOTE };
  return { disposition, ...(reason ? { reason } : {}), ...(note ? { note } : {}) };
}

function tracedEntry(s: ResolvedSyscall, abi: Abi): SyscallRules {
  return {
    names: [s.name],
    abis: [abi],
    ...traced(s.disposition, s.reason, s.note),
    rules: s.rules.map((r) => ({ when: r.when.map(rawCondition), ...traced(r.disposition, r.reason, r.note) })),
  };
}

/** Zone rules that trace every host-run call of `profile` on `abis`, changing nothing else. */
export function traceHostCalls(profile: string, abis: readonly Abi[], opts: ResolveOptions = {}): SyscallRules[] {
  const out: SyscallRules[] = [];
  for (const abi of abis) {
    const plain: string[] = [];
    for (const s of resolveProfile(profile, abi, opts).syscalls) {
      const outcomes = [s.disposition, ...s.rules.map((r) => r.disposition)];
      if (!outcomes.includes('host') || outcomes.some((d) => d.startsWith('emulate:'))) continue;
      if (!s.conditional) plain.push(s.name);
      else out.push(tracedEntry(s, abi));
    }
    if (plain.length) out.push({ names: plain, abis: [abi], disposition: 'trace', note: NOTE });
  }
  return out;
}
