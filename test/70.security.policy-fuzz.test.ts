// Property-based harness for the rule parser and the BPF compiler (issue 10,
// part 3). Two properties, over seeded random input so a failure replays:
//  1. Any profile the parser accepts compiles to a program that passes the
//     kernel's checks and decides every syscall number exactly as its
//     resolved rules say (or the compiler refuses it with an LxzoneError,
//     e.g. over 4096 instructions).
//  2. Hostile rules documents (the built-in ones, mutated) are either
//     accepted and then hold to property 1, or refused with an LxzoneError
//     that names the file: never a TypeError, a hang, or a half-built filter.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LxzoneError } from '../src/errors.js';
import { compilePolicy } from '../src/policy/compile.js';
import { resolveProfile } from '../src/policy/resolve.js';
import { validateExtraRules, validateProfileDoc } from '../src/policy/load.js';
import { decodeProgram, describeAction, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_USER_NOTIF, X32_SYSCALL_BIT } from '../src/policy/bpf.js';
import { checkProgram, runFilter } from '../src/policy/interpret.js';
import { holds, widthOfType } from '../src/policy/conditions.js';
import { mustParse, seccompAction } from '../src/policy/disposition.js';
import { HANDLERS } from '../src/policy/handlers.js';
import { loadTable } from '../src/tables/index.js';
import type { Profile, ResolvedSyscall, Rule, RuleCondition, SyscallRules } from '../src/policy/types.js';
import type { Abi } from '../src/tables/types.js';
import { repoRoot } from './support/zones.js';
import { seededRandom } from './support/seeded-random.js';

const ABIS: Abi[] = ['x86_64', 'i386'];
const ENOSYS = 38;
const U64 = (1n << 64n) - 1n;

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const u32 = (r: () => number) => BigInt(Math.floor(r() * 2 ** 32));
const u64 = (r: () => number) => (u32(r) << 32n) | u32(r);

// ---- generators ----

const ERRNOS = ['EPERM', 'ENOSYS', 'EACCES', 'EINVAL', 'ENOTSUP', 'EAFNOSUPPORT'];
const EMULATED = HANDLERS.filter((h) => h !== 'unsupported' && h !== 'trace');

/** A random disposition; `notify` is the one notified disposition allowed here. */
function disposition(r: () => number, notify: string): string {
  const x = r();
  if (x < 0.4) return 'host';
  if (x < 0.75) return `errno:${pick(r, ERRNOS)}`;
  if (x < 0.85) return 'kill';
  return notify;
}

/** What a rule may test on a syscall, on every ABI that has it: the resolver
 *  refuses arguments past the arity and values wider than the argument. */
interface Shape {
  name: string;
  arity: number;
  wide: boolean[]; // per argument: 64-bit on every ABI
}

function shapes(): Shape[] {
  const byName = new Map<string, Shape>();
  for (const abi of ABIS) {
    for (const sc of loadTable(abi).syscalls) {
      const wide = sc.args.map((a) => abi !== 'i386' && widthOfType(a.type) === 64);
      const prev = byName.get(sc.name);
      if (!prev) byName.set(sc.name, { name: sc.name, arity: sc.args.length, wide });
      else byName.set(sc.name, { name: sc.name, arity: Math.min(prev.arity, sc.args.length), wide: prev.wide.map((w, i) => w && (wide[i] ?? false)) });
    }
  }
  return [...byName.values()];
}

/** A satisfiable condition on `arg` (the resolver refuses rules that can never match). */
function condition(r: () => number, shape: Shape, arg: number): RuleCondition {
  const op = pick(r, ['eq', 'ne', 'lt', 'le', 'gt', 'ge', 'masked_eq'] as const);
  const limit = shape.wide[arg] ? U64 : 0xffffffffn;
  const val = () => {
    const x = r();
    if (x < 0.4) return BigInt(1 + Math.floor(r() * 64));
    if (x < 0.7) return u32(r) & limit;
    if (x < 0.85) return u64(r) & limit;
    return pick(r, [1n, limit - 1n, limit >> 1n]);
  };
  if (op === 'masked_eq') {
    const mask = (u64(r) & limit) | 1n;
    return { arg, op, mask: `0x${mask.toString(16)}`, value: `0x${(val() & mask).toString(16)}` };
  }
  return { arg, op, value: `0x${val().toString(16)}` };
}

/** Rules of one syscall: each starts with arg0 == a value of its own, so no
 *  rule covers another (the resolver refuses unreachable rules); then up to
 *  two random conditions on other arguments. */
function rules(r: () => number, shape: Shape, notify: string): Rule[] {
  const n = 1 + Math.floor(r() * 4);
  const limit = shape.wide[0] ? U64 : 0xffffffffn;
  const firsts = new Set<bigint>();
  while (firsts.size < n) firsts.add(r() < 0.5 ? BigInt(Math.floor(r() * 32)) : u64(r) & limit);
  return [...firsts].map((v) => {
    const when: RuleCondition[] = [{ arg: 0, op: 'eq', value: `0x${v.toString(16)}` }];
    const others = Array.from({ length: shape.arity - 1 }, (_, i) => i + 1).sort(() => r() - 0.5).slice(0, Math.floor(r() * 3));
    for (const a of others) when.push(condition(r, shape, a));
    const d = disposition(r, notify);
    return { when, disposition: d, ...(d !== 'host' ? { reason: 'security' as const, note: 'fuzz' } : {}) };
  });
}

/** A profile of random entries over real syscall names of both ABIs. */
function randomProfile(r: () => number, seed: number): Profile {
  const all = shapes();
  const withArgs = all.filter((x) => x.arity > 0);
  const used = new Set<string>();
  const syscalls: SyscallRules[] = [];
  const n = 5 + Math.floor(r() * 40);
  for (let i = 0; i < n; i++) {
    const conditional = r() < 0.4;
    // Argument rules name one syscall (its arity and widths are known); others group a few.
    const entryNames = conditional ? [pick(r, withArgs).name] : Array.from({ length: 1 + Math.floor(r() * 4) }, () => pick(r, all).name);
    const fresh = [...new Set(entryNames)].filter((x) => !used.has(x));
    if (fresh.length === 0) continue;
    for (const x of fresh) used.add(x);
    // The dispatch table holds one handler per syscall: one notified disposition per entry.
    const notify = pick(r, ['trace', ...EMULATED.map((h) => `emulate:${h}`)]);
    const e: SyscallRules = { names: fresh, disposition: disposition(r, notify) };
    if (e.disposition !== 'host') {
      e.reason = pick(r, ['security', 'host-state', 'no-equivalent', 'obsolete', 'not-yet'] as const);
      e.note = 'fuzz';
    }
    if (conditional) e.rules = rules(r, all.find((x) => x.name === fresh[0])!, notify);
    syscalls.push(e);
  }
  const d = disposition(r, 'trace');
  return { profile: `fuzz-${seed}`, default: { disposition: d, ...(d !== 'host' ? { reason: 'not-yet' as const, note: 'fuzz' } : {}) }, syscalls };
}

// ---- the reference decision and the proof ----

/** Why the compiler refused, for the message when too few profiles compile. */
const refusals: string[] = [];

function expected(sc: ResolvedSyscall | undefined, args: bigint[]): number {
  if (!sc) return SECCOMP_RET_USER_NOTIF;
  const rule = sc.rules.find((rl) => rl.when.every((c) => holds(c, args[c.arg] ?? 0n)));
  return seccompAction(mustParse(rule ? rule.disposition : sc.disposition));
}

function samples(sc: ResolvedSyscall | undefined, r: () => number): bigint[][] {
  if (!sc?.conditional) return [Array.from({ length: 6 }, () => u64(r))];
  const pool = new Set<bigint>([0n, 1n, 0xffffffffn, U64]);
  for (const rl of sc.rules) {
    for (const c of rl.when) {
      for (const d of [-1n, 0n, 1n]) pool.add((c.value + d) & U64);
      pool.add(c.value | (c.mask ^ U64));
      pool.add((c.value | 0xffffffff00000000n) & U64);
    }
  }
  const values = [...pool];
  return Array.from({ length: 40 }, () => Array.from({ length: 6 }, () => (r() < 0.75 ? pick(r, values) : u64(r))));
}

/** Compiles (or sees it refused cleanly) and proves the program against the rules. */
function compileAndProve(profile: Profile, r: () => number, extraRules?: SyscallRules[]): 'proved' | 'refused' {
  let compiled;
  try {
    compiled = compilePolicy({ profile, abis: ABIS, extraRules });
  } catch (e) {
    if (e instanceof LxzoneError) {
      refusals.push(e.message.split('\n').slice(0, 3).join(' | '));
      return 'refused';
    }
    throw e;
  }
  const prog = decodeProgram(compiled.bpf);
  checkProgram(prog);
  expect(compiled.instructions).toBe(prog.length);
  expect(prog.length).toBeLessThanOrEqual(4096);
  for (const abi of ABIS) {
    const resolved = resolveProfile(profile, abi, { extraRules });
    const byNr = new Map(resolved.syscalls.map((s) => [s.nr, s]));
    const maxNr = loadTable(abi).maxNr;
    for (let nr = 0; nr <= maxNr + 2; nr++) {
      const sc = byNr.get(nr);
      for (const args of samples(sc, r)) {
        const got = runFilter(prog, { nr, arch: resolved.auditArch, args }).ret;
        const want = expected(sc, args);
        if (got !== want) {
          throw new Error(`${profile.profile}/${abi} nr ${nr} (${sc?.name ?? 'hole'}) args ${args.map((a) => '0x' + a.toString(16)).join(',')}: filter ${describeAction(got)}, rules ${describeAction(want)}`);
        }
      }
    }
    // Numbers far past the table, x32 on x86_64, and a foreign arch.
    for (const nr of [maxNr + 1000, 0x3fffffff, 0x40000000 | 39, 0xffffffff]) {
      const want = abi === 'x86_64' && nr & X32_SYSCALL_BIT ? SECCOMP_RET_ERRNO | ENOSYS : SECCOMP_RET_USER_NOTIF;
      expect(describeAction(runFilter(prog, { nr, arch: resolved.auditArch }).ret), `${abi} nr ${nr}`).toBe(describeAction(want));
    }
  }
  expect(runFilter(prog, { nr: 0, arch: 0x40000028 /* ARM */ }).ret).toBe(SECCOMP_RET_KILL_PROCESS);
  return 'proved';
}

// ---- hostile documents ----

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const HOSTILE: Json[] = [
  null, true, -1, 1e300, Number.MAX_SAFE_INTEGER + 2, 'x'.repeat(100_000), 'errno:', 'emulate:', 'emulate:nope', 'errno:EFOO',
  'host\u0000', '../../etc/passwd', '__proto__', '0x1ffffffffffffffff', '-0x1', 'NaN', [], {}, [[[[[[]]]]]], { __proto__: { polluted: 1 } },
];

/** One random mutation somewhere in the document: replace, delete, or add a key. */
function mutate(doc: Json, r: () => number): Json {
  const copy = JSON.parse(JSON.stringify(doc)) as Json;
  const paths: (string | number)[][] = [];
  const walk = (v: Json, path: (string | number)[]) => {
    paths.push(path);
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
    else if (v && typeof v === 'object') for (const k of Object.keys(v)) walk(v[k]!, [...path, k]);
  };
  walk(copy, []);
  const path = pick(r, paths.filter((p) => p.length > 0));
  let parent = copy as Record<string | number, Json>;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, Json>;
  const last = path[path.length - 1]!;
  const x = r();
  if (x < 0.6) parent[last] = pick(r, HOSTILE);
  else if (x < 0.8) {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else if (!Array.isArray(parent)) parent[pick(r, ['extra', 'onlyIf', 'width', 'mask', 'abis', '__proto__'])] = pick(r, HOSTILE);
  return copy;
}

describe('the rule parser and the BPF compiler under random input', () => {
  it('compiles every random valid profile into a program that decides as its rules say', () => {
    let proved = 0;
    for (let seed = 1; seed <= 12; seed++) {
      const r = seededRandom(seed);
      const profile = validateProfileDoc(randomProfile(r, seed), `fuzz-${seed}.json`);
      if (compileAndProve(profile, r) === 'proved') proved++;
    }
    // The generator must produce compilable profiles, or the property proves nothing.
    expect(proved, refusals.join('\n')).toBeGreaterThanOrEqual(10);
  });

  it('holds for random zone rules layered over the default profile', () => {
    const base = validateProfileDoc(JSON.parse(readFileSync(join(repoRoot, 'syscall-tables/rules/default.json'), 'utf8')), 'default.json');
    let proved = 0;
    for (let seed = 100; seed < 106; seed++) {
      const r = seededRandom(seed);
      const extra = validateExtraRules(randomProfile(r, seed).syscalls);
      if (compileAndProve(base, r, extra) === 'proved') proved++;
    }
    expect(proved, refusals.join('\n')).toBeGreaterThanOrEqual(5);
  });

  it('refuses mutated rules documents with an LxzoneError naming the file, or compiles them correctly', () => {
    const files = ['default', 'strict'].map((n) => JSON.parse(readFileSync(join(repoRoot, `syscall-tables/rules/${n}.json`), 'utf8')) as Json);
    const outcomes = { refusedByParser: 0, refusedByCompiler: 0, proved: 0 };
    const t0 = Date.now();
    for (let seed = 1000; seed < 1300; seed++) {
      const r = seededRandom(seed);
      let doc = pick(r, files);
      for (let i = 0, n = 1 + Math.floor(r() * 3); i < n; i++) doc = mutate(doc, r);
      let profile: Profile;
      try {
        profile = validateProfileDoc(doc, `mutant-${seed}.json`);
      } catch (e) {
        if (!(e instanceof LxzoneError)) throw new Error(`seed ${seed}: the parser threw ${String(e)}`);
        expect((e as Error).message, `seed ${seed}`).toContain(`mutant-${seed}.json`);
        outcomes.refusedByParser++;
        continue;
      }
      // Accepted by the schema: resolving and compiling may still refuse (unknown names, extends loops), cleanly.
      try {
        // Cheap proof for the many accepted mutants: x86_64 only is enough to catch a miscompile.
        const outcome = compileAndProve(profile, r);
        outcomes[outcome === 'proved' ? 'proved' : 'refusedByCompiler']++;
      } catch (e) {
        if (e instanceof LxzoneError) {
          outcomes.refusedByCompiler++;
          continue;
        }
        throw new Error(`seed ${seed}: ${String((e as Error).stack ?? e)}`);
      }
      if (Date.now() - t0 > 45_000) break; // bounded: a slow host proves fewer mutants, none wrongly
    }
    expect(outcomes.refusedByParser).toBeGreaterThan(0);
    expect(outcomes.proved).toBeGreaterThan(0);
  }, 120_000);
});
