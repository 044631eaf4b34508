// Two profiles over one zone, the stricter decision winning per call: what
// the kernel does with two stacked seccomp filters (the action of higher
// precedence wins: KILL > ERRNO > USER_NOTIF > ALLOW), done here in one
// filter because a zone's filter must be the only one with a listener. Used
// for an OCI bundle's linux.seccomp (imported by docker.ts) over lxzone's
// own profile: the container gets every refusal its config asks for and
// every translation lxzone makes.
//
// Exact with argument rules: a syscall's rule chain is "first matching rule,
// else the fallback", so the product of the two chains, ordered by the own
// profile's rule first, then the other's, with conditions AND'd, decides
// for every call what the pair of chains decides.
import type { ParsedDisposition } from './disposition.js';
import { contradiction, covers } from './conditions.js';
import type { Condition, ResolvedProfile, ResolvedRule, ResolvedSyscall } from './types.js';

/** Precedence, as the kernel orders actions of stacked filters; a handler (emulate) before a recording (trace). */
function rank(a: ParsedDisposition): number {
  switch (a.kind) {
    case 'host': return 0;
    case 'trace': return 1;
    case 'emulate': return 2;
    case 'errno': return 3;
    case 'kill': return 4;
  }
}

interface Alt { when: Condition[]; disposition: string; action: ParsedDisposition; reason?: ResolvedRule['reason']; note?: string; comment?: string; where: string }

function alts(sc: ResolvedSyscall): Alt[] {
  return [...sc.rules, { when: [], disposition: sc.disposition, action: sc.action, reason: sc.reason, note: sc.note, where: sc.where }];
}

/** The stricter of two; between two errnos the other profile's (it is what the bundle asked for). */
function stricter(own: Alt, other: Alt): Alt {
  return rank(other.action) >= rank(own.action) ? other : own;
}

function combineSyscall(own: ResolvedSyscall, other: ResolvedSyscall | undefined): ResolvedSyscall {
  if (!other) return own;
  const product: Alt[] = [];
  for (const a of alts(own)) {
    for (const b of alts(other)) {
      const when = [...a.when, ...b.when];
      if (when.length && contradiction(when)) continue;
      if (product.some((p) => covers(p.when, when))) continue;
      product.push({ ...stricter(a, b), when });
    }
  }
  // The last pair (both fallbacks) has no conditions and is the fallback;
  // rules just before it that decide the same add nothing.
  const fallback = product.pop()!;
  while (product.length && product[product.length - 1]!.disposition === fallback.disposition) product.pop();
  // One supervisor handler per syscall: where lxzone translates the call, a
  // recording the other profile asks for (SCMP_ACT_NOTIFY) lets the host run it.
  const all = [...product, fallback];
  if (all.some((x) => x.action.kind === 'emulate')) {
    for (const x of all) if (x.action.kind === 'trace') Object.assign(x, { disposition: 'host', action: { kind: 'host' } });
  }
  const rules: ResolvedRule[] = product.map((p) => ({
    when: p.when, disposition: p.disposition, action: p.action, reason: p.reason, note: p.note, comment: p.comment, where: p.where,
  }));
  return {
    nr: own.nr, name: own.name, disposition: fallback.disposition, action: fallback.action, conditional: rules.length > 0, rules,
    reason: fallback.reason, note: fallback.note, where: fallback.where,
  };
}

/** `own` with `other` applied over it, per syscall of one ABI; numbers `other` lacks keep `own`'s decision. */
export function combineResolved(own: ResolvedProfile, other: ResolvedProfile): ResolvedProfile {
  if (own.abi !== other.abi) throw new Error(`internal: combining profiles of ${own.abi} and ${other.abi}`);
  const byNr = new Map(other.syscalls.map((s) => [s.nr, s]));
  return { ...own, profile: `${own.profile}+${other.profile}`, syscalls: own.syscalls.map((s) => combineSyscall(s, byNr.get(s.nr))) };
}
