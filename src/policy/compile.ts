// Rules + ABI tables → the seccomp filter (BPF bytes) and the supervisor's
// dispatch table. A pure function of its input and the tables.
//
// Layout of the program:
//   ld arch; jeq ARCH_1 → abi1 ; jeq ARCH_2 → abi2 ; … ; KILL_PROCESS
//   abiN:  ld nr; [x86_64: jset X32_BIT → ERRNO(ENOSYS)]; binary search over
//          ranges of numbers with one outcome; a leaf is a return, or, for a
//          syscall with argument rules, its rule chain.
// A syscall whose outcome does not depend on arguments is decided by loads of
// nr and arch, K-jumps and a return only, so the kernel's action cache
// (seccomp_cache_prepare_bitmap) marks the allowed ones and never runs the
// filter for them again. The search costs log2(ranges) jumps whatever the
// number of rules.
import { LxzoneError } from '../errors.js';
import type { Abi } from '../tables/types.js';
import {
  argOffset, BPF_ALU, BPF_AND, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP, BPF_JSET, BPF_K,
  BPF_MAXINSNS, encodeProgram, SECCOMP_DATA_ARCH, SECCOMP_DATA_NR, SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_USER_NOTIF, X32_SYSCALL_BIT, type Insn,
} from './bpf.js';
import { ReverseEmitter, type Label } from './codegen.js';
import { policyKey, readCached } from './cache.js';
import { readUserCached, writeUserCached } from './user-cache.js';
import { combineResolved } from './combine.js';
import { encodeDispatch } from './dispatch.js';
import { seccompAction } from './disposition.js';
import { resolveProfile } from './resolve.js';
import { defaultTables, hostAbis, type TableSource } from './tables.js';
import type { Condition, Profile, ResolvedProfile, ResolvedSyscall, SyscallRules } from './types.js';

const ENOSYS = 38;

export interface CompileInput {
  /** A profile name (syscall-tables/rules/<name>.json), a path, or a parsed profile. */
  profile: string | Profile;
  /** ABIs the filter handles; default: hostAbis(). Any other arch is killed. */
  abis?: Abi[];
  /** A zone's own rules, over the profile's. */
  extraRules?: SyscallRules[];
  /**
   * A second profile (an OCI bundle's linux.seccomp, imported): per call the
   * stricter of its decision and the profile's wins (combine.ts).
   */
  restrict?: Profile;
  /** Let the zone create nested user namespaces (rules with onlyIf.allowNesting). */
  allowNesting?: boolean;
  /** The zone holds CAP_NET_RAW: packet sockets allowed (rules with onlyIf.netRaw). */
  netRaw?: boolean;
  /** Syscall tables (tests). */
  tables?: TableSource;
}

export interface CompiledPolicy {
  /** struct sock_filter[] little-endian. */
  bpf: Buffer;
  /** See dispatch.ts. */
  dispatch: Buffer;
  /** Number of BPF instructions (bpf.length / 8). */
  instructions: number;
}

/** What one number decides: a constant action, or a syscall's argument rules. */
type Outcome = { kind: 'const'; action: number } | { kind: 'rules'; sc: ResolvedSyscall };

function outcomeOf(sc: ResolvedSyscall): Outcome {
  if (sc.rules.length === 0) return { kind: 'const', action: seccompAction(sc.action) };
  return { kind: 'rules', sc };
}

interface Range { lo: number; hi: number; outcome: Outcome } // [lo, hi)

/** Contiguous number ranges with one outcome each, covering 0 .. 2^32-1. */
export function numberRanges(p: ResolvedProfile, maxNr: number): Range[] {
  const byNr = new Map(p.syscalls.map((s) => [s.nr, s]));
  // A hole in the numbering, like a number past the table, is "unsupported":
  // the supervisor answers it, or, for a filter no supervisor serves, the filter refuses it.
  const notify: Outcome = { kind: 'const', action: p.notify ? SECCOMP_RET_USER_NOTIF : (SECCOMP_RET_ERRNO | ENOSYS) >>> 0 };
  const ranges: Range[] = [];
  const push = (nr: number, o: Outcome): void => {
    const last = ranges[ranges.length - 1];
    if (last && last.hi === nr && o.kind === 'const' && last.outcome.kind === 'const' && last.outcome.action === o.action) {
      last.hi = nr + 1;
    } else {
      ranges.push({ lo: nr, hi: nr + 1, outcome: o });
    }
  };
  for (let nr = 0; nr <= maxNr; nr++) {
    const sc = byNr.get(nr);
    push(nr, sc ? outcomeOf(sc) : notify);
  }
  push(maxNr + 1, notify);
  ranges[ranges.length - 1]!.hi = 2 ** 32;
  return ranges;
}

const JMP = (op: number): number => BPF_JMP | op | BPF_K;

/** A condition on one argument: continues at `pass` or `fail`. */
function emitCondition(e: ReverseEmitter, c: Condition, pass: Label, fail: Label): Label {
  const lo32 = Number(c.value & 0xffffffffn);
  const hi32 = Number(c.value >> 32n);
  const mlo = Number(c.mask & 0xffffffffn);
  const mhi = Number(c.mask >> 32n);
  const loadLo = (next: Label): Label => e.load(argOffset(c.arg, 'lo'), next);
  const loadHi = (next: Label): Label => e.load(argOffset(c.arg, 'hi'), next);

  // Unsigned order on 32 bits: JGT/JGE give "greater" on true.
  const order32 = (op: Condition['op'], k: number, t: Label, f: Label): Label => {
    switch (op) {
      case 'gt': return e.jump(JMP(BPF_JGT), k, t, f);
      case 'ge': return e.jump(JMP(BPF_JGE), k, t, f);
      case 'lt': return e.jump(JMP(BPF_JGE), k, f, t);
      case 'le': return e.jump(JMP(BPF_JGT), k, f, t);
      default: throw new Error(`internal: ${op} is not an order`);
    }
  };

  if (c.op === 'masked_eq') {
    const lowPart = (next: Label, failTo: Label): Label => {
      const j = e.jump(JMP(BPF_JEQ), lo32, next, failTo);
      const masked = mlo === 0xffffffff ? j : e.insn(BPF_ALU | BPF_AND | BPF_K, mlo, j);
      return loadLo(masked);
    };
    const low = lowPart(pass, fail);
    if (c.width === 32 || mhi === 0) return low; // hi half masked away entirely (value's hi is 0: checked)
    const j = e.jump(JMP(BPF_JEQ), hi32, low, fail);
    const masked = mhi === 0xffffffff ? j : e.insn(BPF_ALU | BPF_AND | BPF_K, mhi, j);
    return loadHi(masked);
  }

  if (c.width === 32) {
    if (c.op === 'eq') return loadLo(e.jump(JMP(BPF_JEQ), lo32, pass, fail));
    if (c.op === 'ne') return loadLo(e.jump(JMP(BPF_JEQ), lo32, fail, pass));
    return loadLo(order32(c.op, lo32, pass, fail));
  }

  // 64-bit: decide on the high half, and only when it is equal look at the low half.
  if (c.op === 'eq' || c.op === 'ne') {
    const [t, f] = c.op === 'eq' ? [pass, fail] : [fail, pass];
    const low = loadLo(e.jump(JMP(BPF_JEQ), lo32, t, f));
    return loadHi(e.jump(JMP(BPF_JEQ), hi32, low, f));
  }
  const low = loadLo(order32(c.op, lo32, pass, fail));
  // hi > vhi decides gt/ge (pass) and lt/le (fail); hi < vhi the opposite; equal → low half.
  const [above, below] = c.op === 'gt' || c.op === 'ge' ? [pass, fail] : [fail, pass];
  const eq = e.jump(JMP(BPF_JEQ), hi32, low, below);
  return loadHi(e.jump(JMP(BPF_JGT), hi32, above, eq));
}

/** A syscall's rules in order, then its own disposition. */
function emitRules(e: ReverseEmitter, sc: ResolvedSyscall): Label {
  let next = e.ret(seccompAction(sc.action));
  for (let i = sc.rules.length - 1; i >= 0; i--) {
    const rule = sc.rules[i]!;
    const fail = next;
    let l = e.ret(seccompAction(rule.action));
    for (let j = rule.when.length - 1; j >= 0; j--) l = emitCondition(e, rule.when[j]!, l, fail);
    next = l;
  }
  return next;
}

function emitLeaf(e: ReverseEmitter, r: Range): Label {
  return r.outcome.kind === 'const' ? e.ret(r.outcome.action) : emitRules(e, r.outcome.sc);
}

/** Balanced binary search over ranges[i..j) on A = nr. */
function emitSearch(e: ReverseEmitter, ranges: Range[], i: number, j: number): Label {
  if (j - i === 1) return emitLeaf(e, ranges[i]!);
  const mid = (i + j) >> 1;
  const right = emitSearch(e, ranges, mid, j);
  const left = emitSearch(e, ranges, i, mid);
  return e.jump(JMP(BPF_JGE), ranges[mid]!.lo, right, left);
}

function emitAbi(e: ReverseEmitter, abi: Abi, p: ResolvedProfile, maxNr: number): Label {
  const ranges = numberRanges(p, maxNr);
  let entry = emitSearch(e, ranges, 0, ranges.length);
  if (abi === 'x86_64') {
    // x32 shares x86_64's arch value; its numbers carry bit 30. Refused.
    entry = e.jump(JMP(BPF_JSET), X32_SYSCALL_BIT, e.ret(SECCOMP_RET_ERRNO | ENOSYS), entry);
  }
  return e.load(SECCOMP_DATA_NR, entry);
}

export function compileResolved(resolved: ResolvedProfile[], maxNrs: number[]): CompiledPolicy {
  const e = new ReverseEmitter();
  const kill = e.ret(SECCOMP_RET_KILL_PROCESS);
  const entries = resolved.map((p, i) => emitAbi(e, p.abi, p, maxNrs[i]!));
  // Arch dispatch: the first ABI (the host's native one) is tested first.
  let next = kill;
  for (let i = resolved.length - 1; i >= 0; i--) next = e.jump(JMP(BPF_JEQ), resolved[i]!.auditArch, entries[i]!, next);
  const insns: Insn[] = e.finish(e.load(SECCOMP_DATA_ARCH, next));
  if (insns.length > BPF_MAXINSNS) {
    throw new LxzoneError(`compiled filter has ${insns.length} instructions, over the kernel's limit of ${BPF_MAXINSNS}`, { code: 'E2BIG' });
  }
  return { bpf: encodeProgram(insns), dispatch: encodeDispatch(resolved, maxNrs), instructions: insns.length };
}

/**
 * Compiles a profile (plus a zone's rules) for the given ABIs. A zone start
 * passes `userCache`: a compile the build did not make is then kept in (and
 * read from) lxzone's state directory (src/policy/user-cache.ts); other
 * callers (the build, docs, tests, `lxzone policy`) leave it alone.
 */
export function compilePolicy(input: CompileInput, o: { userCache?: boolean } = {}): CompiledPolicy {
  const abis = input.abis ?? hostAbis();
  if (abis.length === 0) throw new LxzoneError('compilePolicy: no ABI to compile for', { code: 'EINVAL' });
  if (new Set(abis).size !== abis.length) throw new LxzoneError(`compilePolicy: ABI listed twice in ${abis.join(', ')}`, { code: 'EINVAL' });
  const key = policyKey(input, abis);
  const cached = key === undefined ? undefined : (readCached(key) ?? (o.userCache ? readUserCached(key) : undefined));
  if (cached) return cached;
  const tables = input.tables ?? defaultTables;
  const opts = { allowNesting: input.allowNesting ?? false, netRaw: input.netRaw ?? false, extraRules: input.extraRules, tables };
  const resolved = abis.map((abi) => {
    const own = resolveProfile(input.profile, abi, opts);
    return input.restrict ? combineResolved(own, resolveProfile(input.restrict, abi, { tables })) : own;
  });
  const maxNrs = abis.map((abi) => tables(abi).maxNr);
  const compiled = compileResolved(resolved, maxNrs);
  if (key !== undefined && o.userCache) writeUserCached(key, compiled);
  return compiled;
}
