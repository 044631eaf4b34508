// Medians, not means: the machine is shared and a run can be hit by another
// process at any time; a median over many samples shrugs off those outliers.
import type { Row } from './types.js';

export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined || b === 0) return null;
  return a / b;
}

/** A row from raw samples. */
export function row(name: string, variant: string, unit: string, samples: readonly number[], note?: string): Row {
  const r: Row = { name, variant, unit, median: median(samples), samples: samples.length, raw: [...samples] };
  if (samples.length) {
    r.min = Math.min(...samples);
    r.max = Math.max(...samples);
  }
  if (note) r.note = note;
  return r;
}

/** Sets each row's ratio to the row of `baseline` variant with the same name (or the named row). */
export function ratiosTo(rows: Row[], baseline: (r: Row) => Row | undefined): void {
  for (const r of rows) {
    const b = baseline(r);
    if (!b || b === r) continue;
    r.ratio = ratio(r.median, b.median);
    r.ratioTo = b.variant === r.variant ? b.name : b.variant;
  }
}
