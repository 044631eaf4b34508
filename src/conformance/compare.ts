// The verdict on one case: the zone's lines against the native run's, line
// by line. For each line, in order of precedence: the profile's refusal of
// its syscall (resolveProfile), the manifest's zone check for it, equality
// with the native line. Fields a check does not mention must still equal the native run
// (unless the manifest ignores them). Zone-only cases have no native run:
// each of their lines needs a check or a refusal.
import { isDeepStrictEqual } from 'node:util';
import type { CaseSpec, LineCheck, ValueSpec } from './manifest.js';
import type { ProfileView } from './profile.js';
import type { CaseRun, LineVerdict, ProbeLine, Status } from './types.js';

export interface CompareContext {
  profile: ProfileView;
  /** ${name} substitutions for string literals in checks. */
  vars: Record<string, string>;
}

export interface CaseVerdict {
  status: Status;
  reason?: string;
  diffs: string[];
  lines: LineVerdict[];
}

function show(v: unknown): string {
  return v === undefined ? '(absent)' : JSON.stringify(v);
}

function substitute(v: string, vars: Record<string, string>): string {
  return v.replace(/\$\{(\w+)\}/g, (m, k: string) => vars[k] ?? m);
}

/** null when the value satisfies the spec, else what was expected. */
export function checkValue(spec: ValueSpec, actual: unknown, vars: Record<string, string>): string | null {
  if (spec === null || typeof spec !== 'object') {
    const want = typeof spec === 'string' ? substitute(spec, vars) : spec;
    return isDeepStrictEqual(want, actual) ? null : show(want);
  }
  if ('any' in spec) return actual === undefined ? 'a value' : null;
  if ('lte' in spec) return typeof actual === 'number' && actual <= spec.lte ? null : `<= ${spec.lte}`;
  if ('gte' in spec) return typeof actual === 'number' && actual >= spec.gte ? null : `>= ${spec.gte}`;
  if ('ne' in spec) {
    const not = typeof spec.ne === 'string' ? substitute(spec.ne, vars) : spec.ne;
    return isDeepStrictEqual(not, actual) ? `not ${show(not)}` : null;
  }
  if ('re' in spec) return typeof actual === 'string' && new RegExp(spec.re).test(actual) ? null : `matching /${spec.re}/`;
  const options = spec.oneOf.map((o) => (typeof o === 'string' ? substitute(o, vars) : o));
  return options.some((o) => isDeepStrictEqual(o, actual)) ? null : `one of ${show(options)}`;
}

/** The arguments a probe line recorded (pr_args: "args": ["0x…"]), or undefined. */
function lineArgs(l: ProbeLine): bigint[] | undefined {
  const a = l.data.args;
  if (!Array.isArray(a) || !a.every((x) => typeof x === 'string' && /^0x[0-9a-f]+$/i.test(x))) return undefined;
  return a.map((x) => BigInt(x as string));
}

function lineLabel(l: ProbeLine): string {
  return `${l.syscall} -> ${l.ret}${l.errno ? ` ${l.errno}` : ''}${Object.keys(l.data).length ? ` ${JSON.stringify(l.data)}` : ''}`;
}

/** Occurrence numbers (1-based) of each line's syscall within the case. */
function occurrences(lines: ProbeLine[]): number[] {
  const seen = new Map<string, number>();
  return lines.map((l) => {
    const n = (seen.get(l.syscall) ?? 0) + 1;
    seen.set(l.syscall, n);
    return n;
  });
}

function applies(c: LineCheck, abi: string): boolean {
  return !c.abis || (c.abis as string[]).includes(abi);
}

function findCheck(spec: CaseSpec, syscall: string, nth: number, abi: string): LineCheck | undefined {
  return (spec.zone ?? []).find((c) => c.syscall === syscall && (c.nth === undefined || c.nth === nth) && applies(c, abi));
}

function ignored(spec: CaseSpec, syscall: string, nth: number, field: string): boolean {
  return (spec.ignore ?? []).some((ig) => {
    const dot = ig.indexOf('.');
    const who = ig.slice(0, dot);
    const what = ig.slice(dot + 1);
    const whoOk = who === '*' || who === syscall || who === `${syscall}#${nth}`;
    return whoOk && (what === field || (what === 'data' && field.startsWith('data.')));
  });
}

/** Field-by-field comparison of a zone line with its expectation. */
function compareFields(spec: CaseSpec, check: LineCheck | undefined, native: ProbeLine | undefined,
  zone: ProbeLine, nth: number, vars: Record<string, string>): string[] {
  const diffs: string[] = [];
  const keys = new Set<string>(['ret', 'errno']);
  for (const k of Object.keys(zone.data)) keys.add(`data.${k}`);
  for (const k of Object.keys(native?.data ?? {})) keys.add(`data.${k}`);
  for (const k of Object.keys(check?.data ?? {})) keys.add(`data.${k}`);
  const get = (l: ProbeLine | undefined, field: string): unknown => {
    if (!l) return undefined;
    if (field === 'ret') return l.ret;
    if (field === 'errno') return l.errno;
    return l.data[field.slice(5)];
  };
  for (const field of keys) {
    const spec1: ValueSpec | undefined = field === 'ret' ? check?.ret : field === 'errno' ? check?.errno : check?.data?.[field.slice(5)];
    const actual = get(zone, field);
    if (spec1 !== undefined) {
      const want = checkValue(spec1, actual, vars);
      if (want !== null) diffs.push(`${field}: zone ${show(actual)}, expected ${want}${check?.why ? ` (${check.why})` : ''}`);
      continue;
    }
    if (!native || ignored(spec, zone.syscall, nth, field)) continue;
    const expected = get(native, field);
    if (!isDeepStrictEqual(expected, actual)) diffs.push(`${field}: native ${show(expected)}, zone ${show(actual)}`);
  }
  return diffs;
}

function runProblem(run: CaseRun, where: string): string | undefined {
  if (run.error) return `${where}: ${run.error}`;
  if (run.timedOut) return `${where}: timed out`;
  if (run.invalid.length) return `${where}: ${run.invalid.length} line(s) that are not probe results, first: ${run.invalid[0]!.slice(0, 200)}`;
  return undefined;
}

function exitLabel(run: CaseRun): string {
  return run.signal ? `killed by ${run.signal}` : `exit ${run.exitCode}`;
}

/**
 * For a syscall whose disposition depends on its arguments: the line is a refusal only when the rule its
 * recorded arguments match refuses it, and then the zone must give exactly that rule's errno. Without
 * recorded arguments nothing is taken as refused (the line must equal the native run or a manifest
 * check): an EPERM the profile does not ask for is a failure, not a refusal. Returns false when the
 * matching rule lets the call through (compared like any other line).
 */
function refusedByRule(syscall: string, z: ProbeLine, n: ProbeLine | undefined, ctx: CompareContext, i: number, verdict: LineVerdict): boolean {
  const args = lineArgs(z);
  if (!args) return false;
  if (n && !isDeepStrictEqual(lineArgs(n), args)) {
    verdict.status = 'fail';
    verdict.diffs.push(`line ${i + 1} ${syscall}: made with other arguments in the zone (${z.data.args}) than natively (${n.data.args})`);
    return true;
  }
  const d = ctx.profile.decide(syscall, args);
  const errno = d?.action.kind === 'errno' ? d.action.name : undefined;
  if (!d || !errno) return false;
  verdict.status = z.ret === -1 && z.errno === errno ? 'refused' : 'fail';
  if (verdict.status === 'fail') verdict.diffs.push(`line ${i + 1} ${syscall}: zone ${lineLabel(z)}, expected -1 ${errno} (${d.where} matches its arguments)`);
  return true;
}

export function compareCase(spec: CaseSpec, native: CaseRun | undefined, zone: CaseRun, ctx: CompareContext): CaseVerdict {
  const diffs: string[] = [];
  const lines: LineVerdict[] = [];
  const fail = (reason: string): CaseVerdict => ({ status: 'fail', reason, diffs: diffs.length ? diffs : [reason], lines });
  if (native) {
    const p = runProblem(native, 'native run');
    if (p) return fail(p);
    // Exit 2/3: the probe could not run the case natively (usage, setup): nothing to compare against.
    if (native.exitCode === 2 || native.exitCode === 3) {
      return fail(`native run did not succeed (${exitLabel(native)}${native.stderr ? `: ${native.stderr.trim().slice(0, 200)}` : ''}); the zone run is not compared`);
    }
  }
  const zp = runProblem(zone, 'zone run');
  if (zp) return fail(zp);

  const base = native ? native.lines : zone.lines;
  const nths = occurrences(base);
  const zoneNths = occurrences(zone.lines);
  let killedAsExpected = false;
  const count = Math.max(base.length, native ? zone.lines.length : 0);
  for (let i = 0; i < count; i++) {
    const n = native ? native.lines[i] : undefined;
    const z = zone.lines[i];
    const syscall = (n ?? z)!.syscall;
    const nth = native ? (nths[i] ?? zoneNths[i]!) : zoneNths[i]!;
    const verdict: LineVerdict = { index: i, syscall, status: 'pass', diffs: [] };
    lines.push(verdict);
    const exp = ctx.profile.expectation(syscall);
    if (n && !z) {
      // The profile kills this syscall: the process that made it (the probe,
      // or a child it forked) died by SIGSYS, and nothing after it can be compared.
      if (exp?.kind === 'kill' || (exp?.kind === 'conditional' && exp.kill && zone.signal === 'SIGSYS')) {
        verdict.status = 'refused';
        killedAsExpected = true;
        break;
      }
      verdict.status = 'fail';
      const hint = zone.signal === 'SIGSYS' ? ' — SIGSYS: the profile kills a syscall the case makes before this line' : '';
      verdict.diffs.push(`line ${i + 1} missing in the zone (native: ${lineLabel(n)}; zone ${exitLabel(zone)}${hint})`);
      diffs.push(...verdict.diffs);
      break;
    }
    if (!z) break;
    if (n && n.syscall !== z.syscall) {
      verdict.status = 'fail';
      verdict.diffs.push(`line ${i + 1}: native ${lineLabel(n)}, zone ${lineLabel(z)}`);
      diffs.push(...verdict.diffs);
      break;
    }
    if (native && !n) {
      verdict.status = 'fail';
      verdict.diffs.push(`line ${i + 1} only in the zone: ${lineLabel(z)}`);
      diffs.push(...verdict.diffs);
      continue;
    }
    const check = findCheck(spec, syscall, nth, ctx.profile.abi);
    // A refusal by the profile wins over the manifest: the profile is the
    // authority on refused calls, the manifest on what the kernel answers.
    if (exp?.kind === 'errno') {
      verdict.status = z.ret === -1 && z.errno === exp.errno ? 'refused' : 'fail';
      if (verdict.status === 'fail') {
        verdict.diffs.push(`line ${i + 1} ${syscall}: zone ${lineLabel(z)}, expected -1 ${exp.errno} (profile ${ctx.profile.profile}: ${exp.disposition})`);
      }
    } else if (!check && exp?.kind === 'conditional' && refusedByRule(syscall, z, n, ctx, i, verdict)) {
      // refusedByRule set the verdict: the rule these arguments match refuses the call.
    } else if (!check && !native) {
      verdict.status = 'fail';
      verdict.diffs.push(`line ${i + 1} ${syscall}: no expectation in the manifest for a zone-only line (${lineLabel(z)})`);
    } else {
      const fd = compareFields(spec, check, n, z, nth, ctx.vars);
      if (fd.length) {
        verdict.status = 'fail';
        verdict.diffs.push(...fd.map((d) => `line ${i + 1} ${syscall}${nth > 1 ? `#${nth}` : ''}: ${d}`));
      }
    }
    diffs.push(...verdict.diffs);
  }
  for (const c of spec.zone ?? []) {
    if (!applies(c, ctx.profile.abi)) continue;
    const used = base.some((l, i) => l.syscall === c.syscall && (c.nth === undefined || c.nth === nths[i]));
    if (!used && !killedAsExpected) diffs.push(`manifest expects a ${c.syscall}${c.nth ? `#${c.nth}` : ''} line the probe did not print`);
  }
  if (!killedAsExpected) {
    const want = native ? exitLabel(native) : 'exit 0';
    if (exitLabel(zone) !== want) diffs.push(`probe ended differently: native ${want}, zone ${exitLabel(zone)}${zone.stderr ? ` (stderr: ${zone.stderr.trim().slice(0, 200)})` : ''}`);
  }
  if (diffs.length) return { status: 'fail', reason: diffs[0], diffs, lines };
  return { status: 'pass', diffs, lines };
}
