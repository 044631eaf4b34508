// What the profile says a zone answers for a syscall, derived from
// src/policy's resolveProfile: refused calls must give the profile's errno
// (or be killed in kill dispositions); argument-conditioned calls may give
// the answer of the rule their arguments match (the probe line carries them).
import { holds } from '../policy/conditions.js';
import { resolveProfile } from '../policy/index.js';
import type { ParsedDisposition } from '../policy/disposition.js';
import type { ResolvedProfile } from '../policy/types.js';
import type { Abi } from '../tables/types.js';

export type Expectation =
  | { kind: 'errno'; errno: string; disposition: string }
  | { kind: 'kill'; disposition: string }
  | { kind: 'conditional'; errnos: string[]; kill: boolean; disposition: string }
  | { kind: 'host'; disposition: string };

export interface ProfileView {
  profile: string;
  abi: Abi;
  /** undefined for names the ABI's table does not have (pseudo lines, unknown names). */
  expectation(name: string): Expectation | undefined;
  has(name: string): boolean;
  /**
   * The disposition the profile gives this syscall made with these arguments (its first rule whose conditions
   * all hold, else its own), with where that decision is written; undefined for names the table lacks.
   */
  decide(name: string, args: readonly bigint[]): { disposition: string; action: ParsedDisposition; where: string } | undefined;
  /** Every syscall name of the ABI's table, with whether the profile lets a zone make it (host, emulate, trace). */
  names(): { name: string; allowed: boolean }[];
}

/** The syscall name probes print for a number beyond every table. */
export const UNKNOWN_LINE = '(unknown)';

function refusal(action: ParsedDisposition): { errno?: string; kill?: boolean } {
  if (action.kind === 'errno') return { errno: action.name };
  if (action.kind === 'kill') return { kill: true };
  return {};
}

export function viewOf(resolved: ResolvedProfile): ProfileView {
  const byName = new Map(resolved.syscalls.map((s) => [s.name, s]));
  return {
    profile: resolved.profile,
    abi: resolved.abi,
    has: (name) => byName.has(name),
    decide(name, args) {
      const s = byName.get(name);
      if (!s) return undefined;
      // An argument the line did not record is taken as 0, as an unused register would be.
      const rule = s.rules.find((r) => r.when.every((c) => holds(c, args[c.arg] ?? 0n)));
      return rule ? { disposition: rule.disposition, action: rule.action, where: rule.where } : { disposition: s.disposition, action: s.action, where: s.where };
    },
    names: () => resolved.syscalls.map((s) => ({
      name: s.name,
      allowed: s.action.kind === 'host' || s.action.kind === 'trace' || s.action.kind === 'emulate',
    })),
    expectation(name) {
      // A number no table has (probe lines "(unknown)"): the profile's unsupported path.
      if (name === UNKNOWN_LINE) {
        return resolved.unsupported === 'sigsys'
          ? { kind: 'kill', disposition: 'unsupported: SIGSYS' }
          : { kind: 'errno', errno: 'ENOSYS', disposition: 'unsupported: ENOSYS' };
      }
      const s = byName.get(name);
      if (!s) return undefined;
      const base = refusal(s.action);
      if (!s.conditional) {
        if (base.errno) return { kind: 'errno', errno: base.errno, disposition: s.disposition };
        if (base.kill) return { kind: 'kill', disposition: s.disposition };
        return { kind: 'host', disposition: s.disposition };
      }
      const errnos = new Set<string>();
      let kill = !!base.kill;
      if (base.errno) errnos.add(base.errno);
      for (const r of s.rules) {
        const x = refusal(r.action);
        if (x.errno) errnos.add(x.errno);
        if (x.kill) kill = true;
      }
      return { kind: 'conditional', errnos: [...errnos], kill, disposition: s.disposition };
    },
  };
}

export function profileView(profile: string, abi: Abi): ProfileView {
  return viewOf(resolveProfile(profile, abi));
}
