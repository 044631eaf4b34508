// The broad measurement (`lxzone conformance --measure`): each suite's units
// run natively, in a default zone and under bubblewrap (a peer that
// translates nothing), one after another; per case, what passed natively
// and not elsewhere is a difference, explained by
// fixtures/conformance/measured-differences.json (refused on purpose, or a
// known gap) or flagged as unexplained. The pass rate is zone passes among
// native passes. The result is written where `lxzone syscalls` finds it.
import { accessSync, constants, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { dirname, join } from 'node:path';
import { LxzoneError } from '../../errors.js';
import { runNativeRaw, runZoneRaw, type RawRun } from '../execute.js';
import { FIXTURES_DIR } from '../paths.js';
import { DEFAULT_RESULTS } from '../../coverage/results.js';
import { SUITES, type Outcome, type Suite } from './suites.js';

export type Env = 'native' | 'zone' | 'bwrap';
export const BWRAP = '/usr/bin/bwrap';

export interface Difference {
  kind: 'refused' | 'gap';
  reason: string;
}

export interface MeasuredCase {
  native: Outcome;
  zone: Outcome;
  bwrap?: Outcome;
  syscall?: string;
}

export interface SuiteMeasurement {
  skipped?: string;
  units: number;
  cases: Record<string, MeasuredCase>;
}

export interface Measurement {
  version: 1;
  date: string;
  kernel: string;
  quick: boolean;
  suites: Record<string, SuiteMeasurement>;
}

export const DIFFERENCES_FILE = join(FIXTURES_DIR, 'conformance', 'measured-differences.json');

/** Case-id patterns (regular expressions, whole id) with their reason. */
export function loadDifferences(file = DIFFERENCES_FILE): { pattern: RegExp; id: string; diff: Difference }[] {
  const data = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Difference>;
  return Object.entries(data).map(([id, diff]) => {
    if (diff.kind !== 'refused' && diff.kind !== 'gap') throw new LxzoneError(`${file}: ${id}: kind must be refused or gap`, { code: 'EINVAL' });
    return { id, pattern: new RegExp(`^(?:${id})$`), diff };
  });
}

function installed(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

const ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', HOME: '/tmp' };

async function runUnit(suite: Suite, unit: string, env: Env): Promise<RawRun> {
  const argv = suite.argv(unit);
  if (env === 'zone') return runZoneRaw(argv, ENV, suite.timeoutMs, { profile: 'default', hostname: 'lxzone', kernelVersion: release(), network: 'loopback' });
  // bubblewrap as Debian ships it, with every namespace and the host's root bound as is.
  const wrapped = env === 'bwrap' ? [BWRAP, '--unshare-all', '--die-with-parent', '--bind', '/', '/', '--proc', '/proc', '--', ...argv] : argv;
  return runNativeRaw(wrapped, ENV, suite.timeoutMs, 'LXZONE_WORK');
}

export interface MeasureOptions {
  quick?: boolean;
  suites?: string[];
  bwrap?: boolean;
  onUnit?: (p: { suite: string; unit: string; env: Env; cases: number }) => void;
}

export async function measure(opts: MeasureOptions = {}): Promise<Measurement> {
  const bwrap = (opts.bwrap ?? true) && installed(BWRAP);
  const out: Measurement = { version: 1, date: new Date().toISOString(), kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(), quick: !!opts.quick, suites: {} };
  for (const suite of SUITES) {
    if (opts.suites && !opts.suites.includes(suite.name)) continue;
    const missing = suite.requires.filter((r) => !installed(r));
    if (missing.length) {
      out.suites[suite.name] = { skipped: `not installed: ${missing.join(', ')} (Debian: ${suite.packages})`, units: 0, cases: {} };
      continue;
    }
    const units = opts.quick ? suite.quick : suite.units;
    const cases: Record<string, MeasuredCase> = {};
    for (const unit of units) {
      const envs: Env[] = bwrap ? ['native', 'zone', 'bwrap'] : ['native', 'zone'];
      const byEnv = new Map<Env, Map<string, Outcome>>();
      for (const env of envs) {
        const parsed = suite.parse(unit, await runUnit(suite, unit, env));
        byEnv.set(env, parsed);
        opts.onUnit?.({ suite: suite.name, unit, env, cases: parsed.size });
      }
      // A case missing from a run (the module died early) did not pass there.
      for (const id of byEnv.get('native')!.keys()) {
        const c: MeasuredCase = { native: byEnv.get('native')!.get(id)!, zone: byEnv.get('zone')!.get(id) ?? 'fail' };
        if (bwrap) c.bwrap = byEnv.get('bwrap')!.get(id) ?? 'fail';
        const sc = suite.syscallOf?.(id);
        if (sc) c.syscall = sc;
        cases[id] = c;
      }
    }
    out.suites[suite.name] = { units: units.length, cases };
  }
  return out;
}

export interface Rates {
  nativePass: number;
  zonePass: number;
  bwrapPass?: number;
}

/** Passes in a zone (and under bubblewrap) among the cases that pass natively. */
export function rates(m: SuiteMeasurement | Measurement): Rates {
  const all = 'suites' in m ? Object.values(m.suites).flatMap((s) => Object.values(s.cases)) : Object.values(m.cases);
  const native = all.filter((c) => c.native === 'pass');
  const r: Rates = { nativePass: native.length, zonePass: native.filter((c) => c.zone === 'pass').length };
  if (native.some((c) => c.bwrap !== undefined)) r.bwrapPass = native.filter((c) => c.bwrap === 'pass').length;
  return r;
}

export interface Explained {
  id: string;
  zone: Outcome;
  diff?: Difference;
}

/** Cases that pass natively but not in a zone, with their reason where one is listed. */
export function differences(m: Measurement, listed = loadDifferences()): Explained[] {
  const out: Explained[] = [];
  for (const s of Object.values(m.suites)) {
    for (const [id, c] of Object.entries(s.cases)) {
      if (c.native !== 'pass' || c.zone === 'pass') continue;
      const hit = listed.find((l) => l.pattern.test(id));
      out.push({ id, zone: c.zone, ...(hit ? { diff: hit.diff } : {}) });
    }
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

const pct = (n: number, d: number): string => (d === 0 ? '-' : `${((100 * n) / d).toFixed(1)}%`);

export function formatMeasurement(m: Measurement, listed = loadDifferences()): string {
  const lines = [`# Measured conformance${m.quick ? ' (quick subset)' : ''}`, '', `${m.date}, Linux ${m.kernel}. Cases that pass natively, and how many of them pass in a default zone and under bubblewrap (\`bwrap --unshare-all --bind / /\`).`, ''];
  lines.push('| suite | units | cases | pass natively | pass in a zone | zone rate | pass in bwrap | bwrap rate |', '|---|---|---|---|---|---|---|---|');
  for (const [name, s] of Object.entries(m.suites)) {
    if (s.skipped) {
      lines.push(`| ${name} | skipped: ${s.skipped} | | | | | | |`);
      continue;
    }
    const r = rates(s);
    lines.push(`| ${name} | ${s.units} | ${Object.keys(s.cases).length} | ${r.nativePass} | ${r.zonePass} | ${pct(r.zonePass, r.nativePass)} | ${r.bwrapPass ?? '-'} | ${r.bwrapPass === undefined ? '-' : pct(r.bwrapPass, r.nativePass)} |`);
  }
  const t = rates(m);
  lines.push(`| **all** | | | ${t.nativePass} | ${t.zonePass} | **${pct(t.zonePass, t.nativePass)}** | ${t.bwrapPass ?? '-'} | ${t.bwrapPass === undefined ? '-' : pct(t.bwrapPass, t.nativePass)} |`, '');
  const diffs = differences(m, listed);
  lines.push(`## Differences (${diffs.length}): pass natively, not in a zone`, '');
  for (const d of diffs) {
    lines.push(`- \`${d.id}\` (${d.zone} in a zone): ${d.diff ? `**${d.diff.kind}** — ${d.diff.reason}` : '**unexplained**'}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Where the last measurement is kept for `lxzone syscalls` (beside the probes' result file). */
export const DEFAULT_MEASURED = join(dirname(DEFAULT_RESULTS), 'measured.json');

export function writeMeasurement(file: string, m: Measurement): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, `${JSON.stringify(m, null, 1)}\n`);
  renameSync(`${file}.tmp`, file);
}

/** Per syscall: exercised by a measured case, and whether every such case that passes natively passes in a zone. */
export function measuredSyscalls(m: Measurement): Record<string, { exercised: boolean; passed: boolean }> {
  const out: Record<string, { exercised: boolean; passed: boolean }> = {};
  for (const s of Object.values(m.suites)) {
    for (const c of Object.values(s.cases)) {
      if (!c.syscall || c.native !== 'pass') continue;
      const prev = out[c.syscall] ?? { exercised: true, passed: true };
      out[c.syscall] = { exercised: true, passed: prev.passed && c.zone === 'pass' };
    }
  }
  return out;
}
