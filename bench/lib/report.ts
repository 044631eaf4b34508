// Writing a run down: bench/results/latest.json (everything), latest.md (the
// tables), and the same tables into docs/performance.md between its markers.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchResults, Check, Row, SectionResult } from './types.js';

export const DOC_BEGIN = '<!-- bench:results:begin (written by npm run bench; do not edit by hand) -->';
export const DOC_END = '<!-- bench:results:end -->';

function fmt(v: number | null | undefined, unit: string): string {
  if (v === null || v === undefined || Number.isNaN(v)) return 'n/a';
  if (unit.startsWith('x')) return `${v.toFixed(2)}x`;
  const abs = Math.abs(v);
  const digits = unit === 'KiB' || unit === 'calls/s' || unit === 'zones' ? 0 : abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

const cell = (s: string): string => s.replace(/\|/g, '\\|');

function rowsTable(rows: Row[]): string[] {
  const out = ['| measured | variant | median | unit | ratio | samples | note |', '|---|---|---:|---|---:|---:|---|'];
  for (const r of rows) {
    const ratio = r.ratio === undefined ? '' : `${fmt(r.ratio, 'x')} ${r.ratioTo ?? ''}`.trim();
    out.push(`| ${cell(r.name)} | ${cell(r.variant)} | ${fmt(r.median, r.unit)} | ${r.unit} | ${ratio} | ${r.samples} | ${cell(r.note ?? '')} |`);
  }
  return out;
}

function checksTable(checks: Check[]): string[] {
  if (!checks.length) return [];
  const out = ['', '| target | measured | met |', '|---|---:|---|'];
  for (const c of checks) {
    const met = c.met === null ? 'undecided' : c.met ? 'yes' : '**no**';
    out.push(`| ${cell(c.target)} | ${fmt(c.value, c.unit)} ${c.unit.startsWith('x') ? c.unit.slice(2) : c.unit} | ${met} |`);
  }
  return out;
}

function sectionMd(s: SectionResult, index: number): string[] {
  const out = [`### ${index}. ${s.title}`, ''];
  if (s.status === 'not-run') return [...out, '_not run (not selected)_', ''];
  out.push(`Status: ${s.status}, ${(s.durationMs / 1000).toFixed(1)} s.`);
  for (const m of s.messages) out.push(`- ${m}`);
  out.push('');
  if (s.rows.length) out.push(...rowsTable(s.rows));
  out.push(...checksTable(s.checks), '');
  return out;
}

export function markdown(res: BenchResults): string {
  const m = res.machine;
  const o = res.options;
  const lines = [
    `## Results of ${res.startedAt.slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `lxzone commit: ${res.commit}.`,
    '',
    `Machine: ${m.cpu}, ${m.cores} cores, ${(m.memoryBytes / 2 ** 30).toFixed(1)} GiB memory, Linux ${m.kernel}, ${m.os}, virtualization: ${m.virtualization}, seccomp notification mode: ${m.notificationMode ?? 'not recorded'}, Node ${m.node}; load average at start ${m.loadAverageAtStart.join(' / ')}.`,
    '',
    `Sizes: ${o.quick ? 'quick (smoke), ' : ''}${o.runs} process runs x ${o.batches} batches per loop variant (${o.calls} passthrough / ${o.notifyCalls} notified calls per batch); ${o.startRuns} start-to-exit runs (${o.cliRuns} for the CLI); ${o.workRuns} rounds per real-work task; density N=${o.density}, ${o.densityRounds} round(s); ${o.noisyRounds} noisy-neighbour round(s).`,
    'Every figure is a median over all samples; ratios are medians over medians.',
    '',
  ];
  Object.values(res.sections).forEach((s, i) => lines.push(...sectionMd(s, i + 1)));
  return `${lines.join('\n').trimEnd()}\n`;
}

function writeAtomic(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

/**
 * Writes latest.json (medians, ratios, checks: what the docs quote),
 * samples.json (every raw sample behind each row, so a median can be checked
 * or re-read later) and latest.md (the tables). Rows lose their raw samples in
 * latest.json; `res` is left as it was.
 */
export function writeResults(res: BenchResults, dir: string): { json: string; md: string; samples: string } {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, 'latest.json');
  const md = join(dir, 'latest.md');
  const samples = join(dir, 'samples.json');
  const raw: Record<string, { name: string; variant: string; unit: string; raw: number[] }[]> = {};
  const sections = Object.fromEntries(Object.entries(res.sections).map(([id, s]) => {
    raw[id] = s.rows.filter((r) => r.raw).map((r) => ({ name: r.name, variant: r.variant, unit: r.unit, raw: r.raw! }));
    return [id, { ...s, rows: s.rows.map(({ raw: _raw, ...r }) => r) }];
  }));
  writeAtomic(json, `${JSON.stringify({ ...res, sections }, null, 2)}\n`);
  writeAtomic(samples, `${JSON.stringify({ commit: res.commit, startedAt: res.startedAt, sections: raw })}\n`);
  writeAtomic(md, markdown(res));
  return { json, md, samples };
}

/** Where docs/performance.md is written from: its text, with the figures it quotes as placeholders. */
export const DOC_TEMPLATE = 'bench/performance.template.md';

/**
 * docs/performance.md from its template and one run's results: `{{results}}`
 * becomes the tables (between the markers), and every figure the text quotes
 * is a placeholder `{{section|row name|variant|median|ratio|min|max}}` filled
 * from the same run, formatted as the tables format it, so the prose can never
 * quote a figure the tables below it do not show. A placeholder that names no
 * row of the run is an error naming it.
 */
export function renderDoc(template: string, res: BenchResults): string {
  const missing: string[] = [];
  const text = template.replace(/\{\{([^{}]+)\}\}/g, (whole, body: string) => {
    if (body === 'results') return `${DOC_BEGIN}\n${markdown(res)}${DOC_END}`;
    if (body === 'commit') return res.commit;
    // The density section's size (its row names carry it): {{options|density}}, and $N in a row name.
    if (body === 'options|density') return String(res.options.density);
    const [section, rawName, variant, field] = body.split('|');
    const name = rawName?.replaceAll('$N', String(res.options.density));
    const s = res.sections[section as keyof BenchResults['sections']];
    const r = s?.rows.find((x) => x.name === name && x.variant === variant);
    const v = r && (field === 'median' || field === 'ratio' || field === 'min' || field === 'max') ? r[field] : undefined;
    if (v === undefined || v === null) {
      missing.push(whole);
      return whole;
    }
    return field === 'ratio' ? fmt(v, 'x') : `${fmt(v, r!.unit)} ${r!.unit}`;
  });
  if (missing.length) throw new Error(`${DOC_TEMPLATE}: no figure in this run for ${missing.join(', ')}`);
  return text;
}

/** Writes docs/performance.md anew from the template and this run. */
export function updateDoc(path: string, res: BenchResults, templatePath: string): void {
  writeAtomic(path, renderDoc(readFileSync(templatePath, 'utf8'), res));
}
