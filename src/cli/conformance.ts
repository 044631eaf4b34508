// `lxzone conformance`: every probe case natively and in a zone, compared,
// then the real programs; a per-case and per-syscall report on stdout,
// progress on stderr, the result file for `lxzone syscalls`
// (.lxzone/conformance.json), and --json FILE for machine output.
// Exit 1 when a case fails that known-failures.json does not list.
import { Command, Option } from 'commander';
import { LxzoneError } from '../errors.js';
import { ABIS, isAbi } from '../tables/index.js';
import type { Abi } from '../tables/types.js';
import {
  caseLine, DEFAULT_RESULTS, formatReport, hasUnexpectedFailures, loadKnownFailures, loadManifest, runSuite, writeResults,
} from '../conformance/index.js';
import { writeFileSync } from 'node:fs';
import { DEFAULT_MEASURED, formatMeasurement, measure, writeMeasurement } from '../conformance/measure/measure.js';
import { SUITES } from '../conformance/measure/suites.js';

interface ConformanceOptions {
  measure?: boolean;
  quick?: boolean;
  suite?: string[];
  bwrap: boolean;
  report?: string;
  filter?: string;
  profile: string;
  json?: string;
  results: string;
  abi?: string[];
  programs: boolean;
  probes: boolean;
  build: boolean;
  verbose?: boolean;
  manifest?: string;
  knownFailures?: string;
}

const usage = (message: string) => new LxzoneError(message, { code: 'EINVAL', exitCode: 2 });

/** `--measure`: the third-party suites natively, in a zone and under bubblewrap; the report on stdout. */
async function runMeasurement(opts: ConformanceOptions): Promise<number> {
  for (const s of opts.suite ?? []) if (!SUITES.some((x) => x.name === s)) throw usage(`--suite: unknown suite "${s}" (one of ${SUITES.map((x) => x.name).join(', ')})`);
  const m = await measure({
    quick: opts.quick,
    bwrap: opts.bwrap,
    ...(opts.suite?.length ? { suites: opts.suite } : {}),
    onUnit: ({ suite, unit, env, cases }) => process.stderr.write(`${suite} ${unit} ${env}: ${cases} cases\n`),
  });
  writeMeasurement(DEFAULT_MEASURED, m);
  if (opts.json) writeMeasurement(opts.json, m);
  const text = formatMeasurement(m);
  if (opts.report) writeFileSync(opts.report, text);
  process.stdout.write(text);
  return 0;
}

export async function runConformance(opts: ConformanceOptions): Promise<number> {
  if (opts.measure) return runMeasurement(opts);
  let filter: RegExp | undefined;
  if (opts.filter !== undefined) {
    try {
      filter = new RegExp(opts.filter);
    } catch (err) {
      throw usage(`--filter: not a regular expression: ${(err as Error).message}`);
    }
  }
  let abis: Abi[] | undefined;
  if (opts.abi?.length) {
    for (const a of opts.abi) if (!isAbi(a)) throw usage(`--abi: unknown ABI "${a}" (one of ${ABIS.join(', ')})`);
    abis = opts.abi as Abi[];
  }
  const tty = process.stderr.isTTY;
  const result = await runSuite({
    profile: opts.profile,
    filter,
    abis,
    noBuild: !opts.build,
    programs: opts.programs,
    probes: opts.probes,
    manifest: opts.manifest ? loadManifest(opts.manifest) : undefined,
    knownFailures: opts.knownFailures ? loadKnownFailures(opts.knownFailures) : undefined,
    onStart: ({ index, total, abi, id }) => {
      if (tty) process.stderr.write(`\r\x1b[K[${index + 1}/${total}] ${abi} ${id} ...`);
    },
    onProgress: ({ done, total, result: r }) => {
      if (tty) process.stderr.write('\r\x1b[K');
      process.stderr.write(`[${done}/${total}] ${caseLine(r)}\n`);
    },
  });
  // A filter that matched nothing ran nothing: say so, and keep the last results file.
  if (filter && result.cases.length === 0) throw usage(`--filter ${opts.filter}: matches no case (ids look like probe_files/openat, program/git, x86_64:probe_time/nanosleep)`);
  writeResults(opts.results, result);
  if (opts.json === '-') process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else {
    if (opts.json) writeFileSync(opts.json, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(formatReport(result, { verbose: opts.verbose }));
    process.stdout.write(`results written to ${opts.results}\n`);
  }
  return hasUnexpectedFailures(result) ? 1 : 0;
}

export function register(program: Command): void {
  program
    .command('conformance')
    .description('run the conformance probes and real programs natively and in a zone, and compare')
    .option('--filter <re>', 'only cases whose id (probe_files/openat, program/git, or <abi>:<id>) matches')
    .option('--profile <name>', 'profile the zones run with (expected refusals come from it)', 'default')
    .option('--json <file>', 'write the full results as JSON to FILE (- for stdout instead of the report)')
    .option('--results <file>', 'where to write the result file `lxzone syscalls` reads', DEFAULT_RESULTS)
    .addOption(new Option('--abi <abi...>', 'only these ABIs (default: every ABI this host runs)').choices([...ABIS]))
    .option('--no-programs', 'leave out the real programs')
    .option('--no-probes', 'leave out the probes')
    .option('--no-build', 'do not run make -C fixtures first')
    .option('--verbose', 'list passing cases too')
    .option('--measure', 'instead: third-party suites (Python regression tests, stress-ng) natively, in a zone and under bubblewrap; pass rates and every difference')
    .option('--quick', 'with --measure: the focused subset only')
    .option('--suite <name...>', 'with --measure: only these suites (python, stress-ng)')
    .option('--no-bwrap', 'with --measure: leave bubblewrap out')
    .option('--report <file>', 'with --measure: also write the report (markdown) to FILE')
    .option('--manifest <file>', 'another manifest (default: fixtures/conformance/manifest.json)')
    .option('--known-failures <file>', 'another known-failures file (default: fixtures/conformance/known-failures.json)')
    .action(async (opts: ConformanceOptions) => {
      process.exitCode = await runConformance(opts);
    });
}
