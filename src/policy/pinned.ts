// The default profile's decisions that are not plain "host", one line per
// syscall, for the reviewed copy in test/pinned/default-profile.json. That
// copy is written only by `npm run pin:profile`, never by gen:docs: a rule
// change that turns a refused syscall into an allowed one (or back) then
// fails test/20.policy.pinned until a person has looked at it and re-pinned.
import { ABIS, type Abi } from '../tables/types.js';
import { resolveProfile } from './resolve.js';
import type { Condition, ResolvedSyscall } from './types.js';

export type PinnedDecisions = Record<Abi, Record<string, string>>;

const hex = (v: bigint) => `0x${v.toString(16)}`;

function conditionText(c: Condition): string {
  const arg = `arg${c.arg}`;
  const ops: Record<string, string> = { eq: '==', ne: '!=', lt: '<', le: '<=', gt: '>', ge: '>=' };
  if (c.op === 'masked_eq') return `(${arg} & ${hex(c.mask)}) == ${hex(c.value)}`;
  return `${arg} ${ops[c.op]} ${hex(c.value)}`;
}

/** "errno:EPERM", or for argument rules "host; errno:EPERM if arg1 == 0x5412; …" (first match wins). */
export function decisionText(s: ResolvedSyscall): string {
  if (!s.conditional) return s.disposition;
  return [s.disposition, ...s.rules.map((r) => `${r.disposition} if ${r.when.map(conditionText).join(' && ')}`)].join('; ');
}

export function pinnedDecisions(profile = 'default'): PinnedDecisions {
  const out = {} as PinnedDecisions;
  for (const abi of ABIS) {
    const m: Record<string, string> = {};
    for (const s of [...resolveProfile(profile, abi).syscalls].sort((a, b) => a.name.localeCompare(b.name))) {
      if (s.disposition !== 'host' || s.conditional) m[s.name] = decisionText(s);
    }
    out[abi] = m;
  }
  return out;
}

/** The differences, one line each: "+ abi name: now" (newly not host), "- abi name: was" (now host),
 *  "~ abi name: was -> now". Empty when equal. */
export function diffDecisions(pinned: Partial<PinnedDecisions>, current: PinnedDecisions): string[] {
  const lines: string[] = [];
  for (const abi of ABIS) {
    const a = pinned[abi] ?? {};
    const b = current[abi];
    for (const name of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      if (a[name] === b[name]) continue;
      if (a[name] === undefined) lines.push(`+ ${abi} ${name}: ${b[name]} (pinned: host)`);
      else if (b[name] === undefined) lines.push(`- ${abi} ${name}: host (pinned: ${a[name]})`);
      else lines.push(`~ ${abi} ${name}: ${b[name]} (pinned: ${a[name]})`);
    }
  }
  return lines;
}
