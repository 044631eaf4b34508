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
import { LxzoneError } from '../errors.js';
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
      const outcomes = [s.action, ...s.rules.map((r) => r.action)].map((a) => a.kind);
      if (!outcomes.includes('host') || outcomes.includes('emulate')) continue;
      if (!s.conditional) plain.push(s.name);
      else out.push(tracedEntry(s, abi));
    }
    if (plain.length) out.push({ names: plain, abis: [abi], disposition: 'trace', note: NOTE });
  }
  return out;
}

/**
 * `lxzone run --trace=a,b`: zone rules that trace those calls where the
 * profile lets the host run them (unconditionally); the others keep their
 * disposition and are returned as `skipped`, to be said. An unknown name is a
 * usage error.
 */
export function traceListedCalls(profile: string, names: string[]): { rules: SyscallRules[]; skipped: { name: string; disposition: string }[] } {
  const resolved = new Map(resolveProfile(profile, 'x86_64').syscalls.map((s) => [s.name, s]));
  for (const n of names) if (!resolved.has(n)) throw new LxzoneError(`--trace: unknown syscall "${n}"`, { exitCode: 2 });
  const plainHost = (n: string): boolean => resolved.get(n)!.action.kind === 'host' && !resolved.get(n)!.conditional;
  const traced = names.filter(plainHost);
  return {
    rules: traced.length ? [{ names: traced, disposition: 'trace', note: 'traced by lxzone run --trace' }] : [],
    skipped: names.filter((n) => !plainHost(n)).map((name) => ({ name, disposition: resolved.get(name)!.disposition })),
  };
}
