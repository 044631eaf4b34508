// Argument conditions: evaluation, the width of an argument, and the two
// static checks on rules: can a rule ever match (satisfiable), and does an
// earlier rule already match everything a later one would (covers).
import type { Condition } from './types.js';

const M32 = 0xffffffffn;

/** The C types of SYSCALL_DEFINE arguments that are 32 bits wide on a 64-bit kernel. */
const INT32_TYPES = new Set([
  'int', 'unsigned int', 'unsigned', 'signed int', 'u32', '__u32', 's32', '__s32', 'int32_t', 'uint32_t',
  'umode_t', 'pid_t', 'uid_t', 'gid_t', 'old_uid_t', 'old_gid_t', 'uid16_t', 'gid16_t', 'qid_t',
  'key_serial_t', 'clockid_t', 'timer_t', 'mqd_t', 'rwf_t', 'key_perm_t', 'compat_int_t', 'compat_uint_t',
]);

/**
 * Width of an argument from its C type: the kernel truncates int arguments,
 * so their upper 32 bits are whatever the caller left in the register and a
 * compare must ignore them; longs and pointers are compared whole.
 */
export function widthOfType(type: string | undefined): 32 | 64 {
  if (type === undefined) return 64;
  if (type.includes('*')) return 64;
  const t = type.replace(/\b(const|volatile|__user)\b/g, '').replace(/\s+/g, ' ').trim();
  return INT32_TYPES.has(t) ? 32 : 64;
}

export function holds(c: Condition, arg: bigint): boolean {
  const x = c.width === 32 ? arg & M32 : arg;
  switch (c.op) {
    case 'eq': return x === c.value;
    case 'ne': return x !== c.value;
    case 'lt': return x < c.value;
    case 'le': return x <= c.value;
    case 'gt': return x > c.value;
    case 'ge': return x >= c.value;
    case 'masked_eq': return (x & c.mask) === c.value;
  }
}

function domainMax(width: 32 | 64): bigint {
  return width === 32 ? M32 : (1n << 64n) - 1n;
}

/** The interval of values an order/equality condition allows, or undefined for ne/masked_eq. */
function interval(c: Condition): [bigint, bigint] | undefined {
  const max = domainMax(c.width);
  switch (c.op) {
    case 'eq': return [c.value, c.value];
    case 'lt': return [0n, c.value - 1n];
    case 'le': return [0n, c.value];
    case 'gt': return [c.value + 1n, max];
    case 'ge': return [c.value, max];
    default: return undefined;
  }
}

/** A reason the conditions can never all hold, or undefined when they can (or we cannot tell). */
export function contradiction(conds: readonly Condition[]): string | undefined {
  for (const c of conds) {
    if (c.op === 'masked_eq' && (c.value & ~c.mask) !== 0n) return `arg${c.arg}: value has bits outside the mask, so masked_eq never holds`;
    if (c.op === 'lt' && c.value === 0n) return `arg${c.arg} < 0 never holds (values are unsigned)`;
    if (c.op === 'gt' && c.value === domainMax(c.width)) return `arg${c.arg} > ${c.value} never holds in ${c.width} bits`;
  }
  const byArg = new Map<string, Condition[]>();
  for (const c of conds) {
    const key = `${c.arg}/${c.width}`;
    byArg.set(key, [...(byArg.get(key) ?? []), c]);
  }
  for (const list of byArg.values()) {
    const arg = list[0]!.arg;
    let lo = 0n;
    let hi = domainMax(list[0]!.width);
    for (const c of list) {
      const iv = interval(c);
      if (iv) { lo = iv[0] > lo ? iv[0] : lo; hi = iv[1] < hi ? iv[1] : hi; }
    }
    if (lo > hi) return `arg${arg}: the conditions allow no value`;
    const masked = list.filter((c) => c.op === 'masked_eq');
    let required = 0n;
    for (let i = 0; i < masked.length; i++) {
      required |= masked[i]!.value;
      for (let j = i + 1; j < masked.length; j++) {
        const a = masked[i]!;
        const b = masked[j]!;
        if (((a.value ^ b.value) & a.mask & b.mask) !== 0n) return `arg${arg}: two masked_eq conditions require different bits`;
      }
    }
    if (required > hi) return `arg${arg}: the masked_eq bits exceed the allowed range`;
    // A small range: try every value.
    if (hi - lo < 256n) {
      let any = false;
      for (let x = lo; x <= hi && !any; x++) any = list.every((c) => holds(c, x));
      if (!any) return `arg${arg}: no value satisfies all conditions`;
    }
  }
  return undefined;
}

/** True when every value satisfying `b` satisfies `a` (b ⇒ a); false when unsure. */
function implies(b: Condition, a: Condition): boolean {
  if (a.arg !== b.arg || a.width !== b.width) return false;
  if (b.op === 'eq') return holds(a, b.value);
  if (a.op === b.op && a.value === b.value && a.mask === b.mask) return true;
  const ib = interval(b);
  const ia = interval(a);
  if (ib && ia) return ib[0] >= ia[0] && ib[1] <= ia[1];
  if (ib && a.op === 'ne') return a.value < ib[0] || a.value > ib[1];
  if (a.op === 'masked_eq' && b.op === 'masked_eq') {
    return (a.mask & ~b.mask) === 0n && (b.value & a.mask) === a.value;
  }
  return false;
}

/** True when `earlier` matches every input `later` matches: later can never decide. */
export function covers(earlier: readonly Condition[], later: readonly Condition[]): boolean {
  return earlier.every((a) => later.some((b) => implies(b, a)));
}
