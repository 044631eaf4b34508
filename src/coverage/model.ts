// The coverage report: every syscall of one ABI with what a zone does with it
// under one profile (from src/policy's resolveProfile), and, when conformance
// results exist, whether the suite exercised it and whether it passed.
// Formatters (format.ts) and the docs (docs.ts) render this one model.
import { LxzoneError } from '../errors.js';
import { parseDisposition, resolveProfile } from '../policy/index.js';
import { loadTable } from '../tables/index.js';
import { SYSCALL_CLASSES, type Abi, type SyscallClass } from '../tables/types.js';
import type { ConformanceResults } from './results.js';

/** The five kinds of disposition (DESIGN.md), as counted in the summary. */
export const DISPOSITION_KINDS = ['host', 'emulate', 'errno', 'kill', 'trace'] as const;
export type DispositionKind = (typeof DISPOSITION_KINDS)[number];

export interface CoverageRow {
  nr: number;
  name: string;
  class: SyscallClass;
  /** The syscall's call shape, e.g. "openat(int dfd, const char *filename, int flags, umode_t mode)". */
  signature: string;
  /** host | emulate:<handler> | errno:<NAME> | kill | trace: the decision when no argument rule matches. */
  disposition: string;
  kind: DispositionKind;
  /** Argument-conditioned rules exist (some calls get another disposition). */
  conditional: boolean;
  reason?: string;
  note?: string;
  /** Set when the kernel itself has no implementation (ENOSYS everywhere). */
  unimplemented?: string;
  /** Undefined when there are no conformance results (not "false"). */
  exercised?: boolean;
  passed?: boolean;
}

export interface CoverageSummary {
  total: number;
  host: number;
  emulated: number;
  refused: number;
  kill: number;
  trace: number;
  conditional: number;
  /** Only with conformance results. */
  exercised?: number;
  passed?: number;
}

export interface CoverageReport {
  abi: Abi;
  profile: string;
  /** The conformance result file used, if any. */
  results?: string;
  filter: { class?: string; disposition?: string };
  /** How this kernel delivers notified syscalls (set by `lxzone syscalls`, not by the generated docs). */
  notification?: { mode: string; note: string };
  rows: CoverageRow[];
  summary: CoverageSummary;
}

export interface ReportOptions {
  abi: Abi;
  profile?: string;
  class?: string;
  /** A full disposition ("errno:EPERM") or a kind ("errno", "emulate", "host", "kill", "trace"). */
  disposition?: string;
  results?: ConformanceResults;
  resultsPath?: string;
  /** Injected in tests; the policy module's resolveProfile otherwise. */
  resolve?: typeof resolveProfile;
}

/** A --disposition filter: a kind, or a whole disposition (parsed as the profiles' are). */
export function checkDispositionFilter(want: string): void {
  if (want.includes(':')) {
    const d = parseDisposition(want);
    if ('error' in d) throw new LxzoneError(d.error, { code: 'EINVAL', exitCode: 2 });
  } else if (!(DISPOSITION_KINDS as readonly string[]).includes(want)) {
    throw new LxzoneError(`unknown disposition "${want}" (expected ${DISPOSITION_KINDS.join(', ')}, or one such as errno:EPERM)`, { code: 'EINVAL', exitCode: 2 });
  }
}

function matchesDisposition(row: CoverageRow, want: string): boolean {
  return want.includes(':') ? row.disposition === want : row.kind === want;
}

export function summarize(rows: CoverageRow[], withResults: boolean): CoverageSummary {
  const count = (k: DispositionKind) => rows.filter((r) => r.kind === k).length;
  const s: CoverageSummary = {
    total: rows.length,
    host: count('host'),
    emulated: count('emulate'),
    refused: count('errno'),
    kill: count('kill'),
    trace: count('trace'),
    conditional: rows.filter((r) => r.conditional).length,
  };
  if (withResults) {
    s.exercised = rows.filter((r) => r.exercised).length;
    s.passed = rows.filter((r) => r.passed).length;
  }
  return s;
}

/** "of 383 syscalls: 300 host, 5 emulated, 70 refused, 0 kill, 0 trace (12 with argument rules); 40 exercised, 39 passed" */
export function summaryLine(s: CoverageSummary): string {
  let line = `of ${s.total} syscalls: ${s.host} host, ${s.emulated} emulated, ${s.refused} refused, ${s.kill} kill, ${s.trace} trace`;
  if (s.conditional) line += ` (${s.conditional} with argument rules)`;
  if (s.exercised !== undefined) line += `; ${s.exercised} exercised, ${s.passed} passed`;
  return line;
}

export function buildReport(opts: ReportOptions): CoverageReport {
  const profile = opts.profile ?? 'default';
  if (opts.class !== undefined && !(SYSCALL_CLASSES as readonly string[]).includes(opts.class)) {
    throw new LxzoneError(`unknown class "${opts.class}" (classes: ${SYSCALL_CLASSES.join(', ')})`, { code: 'EINVAL', exitCode: 2 });
  }
  if (opts.disposition !== undefined) checkDispositionFilter(opts.disposition);
  const table = loadTable(opts.abi);
  const resolved = (opts.resolve ?? resolveProfile)(profile, opts.abi);
  const decisions = new Map(resolved.syscalls.map((s) => [s.nr, s]));
  const results = opts.results?.syscalls[opts.abi];
  const rows: CoverageRow[] = [];
  for (const s of table.syscalls) {
    const d = decisions.get(s.nr);
    if (!d || d.name !== s.name) {
      // The policy must decide every syscall of the table; a gap here is a bug there.
      throw new LxzoneError(`profile "${profile}" has no decision for ${opts.abi} ${s.name} (${s.nr})`, { code: 'EINVAL' });
    }
    const row: CoverageRow = {
      nr: s.nr,
      name: s.name,
      class: s.class,
      signature: `${s.name}(${s.args.map((a) => `${a.type}${a.type.endsWith('*') ? '' : ' '}${a.name}`).join(', ')})`,
      disposition: d.disposition,
      kind: d.action.kind,
      conditional: d.conditional,
    };
    if (d.reason) row.reason = d.reason;
    if (d.note) row.note = d.note;
    if (s.unimplemented) row.unimplemented = s.unimplemented;
    if (opts.results) {
      const r = results?.[s.name];
      row.exercised = r?.exercised ?? false;
      // "passed" means something only for what was exercised.
      if (row.exercised) row.passed = r!.passed;
    }
    rows.push(row);
  }
  const filtered = rows.filter((r) => (opts.class === undefined || r.class === opts.class)
    && (opts.disposition === undefined || matchesDisposition(r, opts.disposition)));
  return {
    abi: opts.abi,
    profile,
    ...(opts.resultsPath ? { results: opts.resultsPath } : {}),
    filter: { ...(opts.class ? { class: opts.class } : {}), ...(opts.disposition ? { disposition: opts.disposition } : {}) },
    rows: filtered,
    summary: summarize(filtered, opts.results !== undefined),
  };
}
