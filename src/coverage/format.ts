// Renderings of a CoverageReport: an aligned text table for terminals, JSON
// for scripts, CSV for spreadsheets, Markdown for docs. Same columns in all
// of them; the conformance columns stay empty without results.
import { summaryLine, type CoverageReport, type CoverageRow } from './model.js';

export const FORMATS = ['table', 'json', 'csv', 'markdown'] as const;
export type Format = (typeof FORMATS)[number];

interface Column {
  title: string;
  value: (r: CoverageRow) => string;
  right?: boolean;
}

const yesNo = (v: boolean | undefined): string => (v === undefined ? '' : v ? 'yes' : 'no');

const COLUMNS: Column[] = [
  { title: 'nr', value: (r) => String(r.nr), right: true },
  { title: 'name', value: (r) => r.name },
  { title: 'class', value: (r) => r.class },
  { title: 'disposition', value: (r) => r.disposition },
  { title: 'args', value: (r) => (r.conditional ? 'rules' : '') },
  { title: 'reason', value: (r) => r.reason ?? '' },
  { title: 'exercised', value: (r) => yesNo(r.exercised) },
  { title: 'passed', value: (r) => yesNo(r.passed) },
  { title: 'note', value: (r) => r.note ?? '' },
];

function header(rep: CoverageReport): string {
  const filters = Object.entries(rep.filter).map(([k, v]) => `${k}=${v}`);
  return `${rep.abi} syscalls, profile ${rep.profile}${filters.length ? ` (${filters.join(', ')})` : ''}`
    + `${rep.results ? `, conformance results ${rep.results}` : ', no conformance results'}`
    + `${rep.notification ? `\nnotification mode: ${rep.notification.mode} (${rep.notification.note})` : ''}`;
}

export function formatTable(rep: CoverageReport): string {
  const cells = rep.rows.map((r) => COLUMNS.map((c) => c.value(r)));
  const widths = COLUMNS.map((c, i) => Math.max(c.title.length, ...cells.map((row) => row[i]!.length)));
  const line = (vals: string[]) => vals
    .map((v, i) => (i === vals.length - 1 ? v : COLUMNS[i]!.right ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
    .join('  ').trimEnd();
  return [header(rep), '', line(COLUMNS.map((c) => c.title)), ...cells.map(line), '', summaryLine(rep.summary)].join('\n') + '\n';
}

export function formatJson(rep: CoverageReport): string {
  return JSON.stringify(rep, null, 2) + '\n';
}

function csvField(v: string): string {
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** RFC 4180; the summary is not a row, so it is left out (it is in the JSON). */
export function formatCsv(rep: CoverageReport): string {
  const cols: Column[] = [...COLUMNS.slice(0, 4), { title: 'conditional', value: (r) => yesNo(r.conditional) }, ...COLUMNS.slice(5)];
  return [cols.map((c) => c.title), ...rep.rows.map((r) => cols.map((c) => c.value(r)))]
    .map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
}

function mdCell(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

/**
 * A GitHub-flavoured Markdown table. The docs pass heading false (they add
 * their own) and conformance false (results are per machine, docs are not).
 */
export function formatMarkdown(rep: CoverageReport, opts: { heading?: boolean; conformance?: boolean } = {}): string {
  const heading = opts.heading ?? true;
  const cols = COLUMNS
    .filter((c) => opts.conformance !== false || (c.title !== 'exercised' && c.title !== 'passed'))
    .map((c) => (c.title === 'name' ? { ...c, value: (r: CoverageRow) => `\`${r.name}\`` } : c));
  const out: string[] = [];
  if (heading) out.push(`### ${header(rep)}`, '');
  out.push(`| ${cols.map((c) => c.title).join(' | ')} |`);
  out.push(`|${cols.map((c) => (c.right ? '---:' : '---')).join('|')}|`);
  for (const r of rep.rows) out.push(`| ${cols.map((c) => mdCell(c.value(r))).join(' | ')} |`);
  out.push('', summaryLine(rep.summary));
  return out.join('\n') + '\n';
}

export function formatReport(rep: CoverageReport, format: Format): string {
  switch (format) {
    case 'table': return formatTable(rep);
    case 'json': return formatJson(rep);
    case 'csv': return formatCsv(rep);
    case 'markdown': return formatMarkdown(rep);
  }
}
