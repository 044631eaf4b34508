// Runs one section: timing, progress, and an error that stops only this
// section (the others still run and the results file still says why).
import { progress } from './exec.js';
import type { BenchOptions, Check, Row, SectionId, SectionResult } from './types.js';

export interface SectionContext {
  opts: BenchOptions;
  rows: Row[];
  checks: Check[];
  details: Record<string, unknown>;
  /** A remark: printed now, kept in the results. */
  note(msg: string): void;
  /** A part that could not be measured (missing peer or tool): the section becomes "partial". */
  skip(msg: string): void;
}

export type SectionBody = (ctx: SectionContext) => Promise<void>;

export async function runSection(id: SectionId, title: string, opts: BenchOptions, body: SectionBody): Promise<SectionResult> {
  const result: SectionResult = { id, title, status: 'ok', messages: [], rows: [], checks: [], durationMs: 0 };
  const details: Record<string, unknown> = {};
  const ctx: SectionContext = {
    opts,
    rows: result.rows,
    checks: result.checks,
    details,
    note(msg) {
      result.messages.push(msg);
      progress(`${id}: ${msg}`);
    },
    skip(msg) {
      result.status = 'partial';
      result.messages.push(`skipped: ${msg}`);
      progress(`${id}: skipped: ${msg}`);
    },
  };
  progress(`${id}: ${title}`);
  const t0 = Date.now();
  try {
    await body(ctx);
  } catch (err) {
    result.status = 'failed';
    const msg = err instanceof Error ? err.message : String(err);
    result.messages.push(`failed: ${msg}`);
    progress(`${id}: FAILED: ${msg}`);
  }
  result.durationMs = Date.now() - t0;
  if (Object.keys(details).length) result.details = details;
  progress(`${id}: done in ${(result.durationMs / 1000).toFixed(1)} s`);
  return result;
}

/** A check of a value against an upper bound (value <= bound is met). */
export function checkAtMost(target: string, value: number | null, bound: number, unit: string): Check {
  return { target, value, unit, met: value === null ? null : value <= bound };
}
