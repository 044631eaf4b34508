// The human report: per case (pass / FAIL with the diff / skip with the
// reason), per syscall (exercised and passed, or which failed and where),
// the known failures with their reasons (always printed, so the list stays
// visible), and the totals.
import type { Abi } from '../tables/types.js';
import { isPseudo } from './results.js';
import type { CaseResult, ConformanceResultFile } from './types.js';

export interface Summary {
  cases: number;
  passed: number;
  failed: number;
  knownFailed: number;
  skipped: number;
  fixed: number;
  exercised: Partial<Record<Abi, number>>;
  syscallsPassed: Partial<Record<Abi, number>>;
}

export function summarize(r: ConformanceResultFile): Summary {
  const s: Summary = { cases: r.cases.length, passed: 0, failed: 0, knownFailed: 0, skipped: 0, fixed: 0, exercised: {}, syscallsPassed: {} };
  for (const c of r.cases) {
    if (c.status === 'pass') s.passed++;
    else if (c.status === 'skip') s.skipped++;
    else if (c.knownFailure !== undefined) s.knownFailed++;
    else s.failed++;
    if (c.fixed) s.fixed++;
  }
  for (const [abi, table] of Object.entries(r.syscalls) as [Abi, Record<string, { passed: boolean }>][]) {
    s.exercised[abi] = Object.keys(table).length;
    s.syscallsPassed[abi] = Object.values(table).filter((v) => v.passed).length;
  }
  return s;
}

/** Whether the run should fail CI: a failing case not listed in known-failures, or a listed one that now
 *  passes (its entry is stale: left there, it would hide the case's next regression). */
export function hasUnexpectedFailures(r: ConformanceResultFile): boolean {
  return r.cases.some((c) => (c.status === 'fail' && c.knownFailure === undefined) || c.fixed === true);
}

export function caseLine(c: CaseResult): string {
  const head = `${c.abi.padEnd(7)} ${c.id}`;
  if (c.status === 'pass') return `${head}: ${c.fixed ? 'UNEXPECTED PASS (listed in known-failures but passes: remove the entry)' : 'pass'}`;
  if (c.status === 'skip') return `${head}: skipped (${c.reason ?? 'no reason'})`;
  return `${head}: ${c.knownFailure !== undefined ? 'FAIL (known)' : 'FAIL'}`;
}

function wrap(words: string[], indent: string, width = 100): string[] {
  const out: string[] = [];
  let line = indent;
  for (const w of words) {
    if (line.length + w.length + 1 > width && line.trim()) {
      out.push(line);
      line = indent;
    }
    line += (line.trim() ? ' ' : '') + w;
  }
  if (line.trim()) out.push(line);
  return out;
}

export function formatReport(r: ConformanceResultFile, opts: { verbose?: boolean } = {}): string {
  const out: string[] = [];
  out.push(`lxzone conformance: profile ${r.profile}`);
  out.push('');
  out.push('Cases');
  for (const c of r.cases) {
    if (c.status === 'pass' && !c.fixed && !opts.verbose) continue;
    out.push(`  ${caseLine(c)}`);
    if (c.status === 'fail') {
      for (const d of c.diffs.slice(0, 12)) out.push(`      ${d}`);
      if (c.diffs.length > 12) out.push(`      ... ${c.diffs.length - 12} more`);
      if (c.knownFailure !== undefined) out.push(`      known failure: ${c.knownFailure}`);
    }
  }
  const passedIds = r.cases.filter((c) => c.status === 'pass' && !c.fixed);
  if (!opts.verbose && passedIds.length) out.push(`  ${passedIds.length} more cases passed (--verbose lists them)`);
  out.push('');
  out.push('Syscalls');
  for (const [abi, table] of Object.entries(r.syscalls) as [Abi, Record<string, { passed: boolean }>][]) {
    const names = Object.keys(table);
    const failed = names.filter((n) => !table[n]!.passed);
    out.push(`  ${abi}: ${names.length} exercised, ${names.length - failed.length} passed${failed.length ? `, ${failed.length} failed` : ''}`);
    for (const n of failed) {
      const where = r.cases.filter((c) => c.abi === abi && c.lines.some((l) => l.syscall === n && l.status === 'fail')).map((c) => c.id);
      out.push(`    FAIL ${n} (${where.join(', ')})`);
    }
    out.push(...wrap(['pass:', ...names.filter((n) => table[n]!.passed)], '   '));
  }
  for (const [abi, ne] of Object.entries(r.notExercised ?? {})) {
    if (!ne) continue;
    out.push(`  ${abi}: not exercised: ${ne.allowed.length} that the profile lets a zone make${ne.allowed.length ? ` (${ne.allowed.join(', ')})` : ''}, ${ne.refused} refused ones`);
  }
  for (const [abi, names] of Object.entries(r.unknownNames)) {
    if (names?.length) out.push(`  ${abi}: probe lines name syscalls this ABI's table does not have: ${names.join(', ')}`);
  }
  out.push('');
  const known = Object.entries(r.knownFailures);
  out.push(`Known failures (fixtures/conformance/known-failures.json): ${known.length}`);
  for (const [id, reason] of known) out.push(`  ${id}: ${reason}`);
  out.push('');
  const s = summarize(r);
  const ex = Object.entries(s.exercised).map(([abi, n]) => `${abi} ${n}`).join(', ') || 'none';
  out.push(`${s.cases} cases: ${s.passed} passed, ${s.failed} failed, ${s.knownFailed} known failures, ${s.skipped} skipped`);
  out.push(`syscalls exercised: ${ex}`);
  return `${out.join('\n')}\n`;
}

/** Lines of a case that tests and callers want to see: id, status, diffs. */
export function describeCase(c: CaseResult): string {
  return [caseLine(c), ...c.diffs.map((d) => `    ${d}`)].join('\n');
}

export { isPseudo };
