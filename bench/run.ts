// `npm run bench [-- FLAGS]`: lxzone side by side with native, bwrap and
// proot, in one run (issue 9, and issue 10's noisy neighbour). Progress on
// stderr; the markdown tables on stdout; results in bench/results/ and, for a
// full run, in docs/performance.md. Installs nothing: a missing peer is
// skipped with a message.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildFixtures, progress, repoRoot } from './lib/exec.js';
import { describeMachine } from './lib/machine.js';
import { commitOf, unpublishable } from './lib/commit.js';
import { DOC_TEMPLATE, markdown, updateDoc, writeResults } from './lib/report.js';
import { runSection, type SectionBody } from './lib/section.js';
import { SECTION_IDS, type BenchOptions, type BenchResults, type SectionId, type SectionResult } from './lib/types.js';
import { density } from './sections/density.js';
import { images } from './sections/images.js';
import { noisy } from './sections/noisy.js';
import { notified } from './sections/notified.js';
import { passthrough } from './sections/passthrough.js';
import { start } from './sections/start.js';
import { work } from './sections/work.js';

const SECTIONS: Record<SectionId, { title: string; body: SectionBody }> = {
  passthrough: { title: 'Passthrough syscalls (getppid, open+close), ns per call', body: passthrough },
  notified: { title: 'Notified syscall round trip (uname), ns per call', body: notified },
  start: { title: 'Zone start to exit (/bin/true), ms', body: start },
  work: { title: 'Real work, native vs zone, ms', body: work },
  density: { title: 'Density: zones booted at once, each sleeping', body: density },
  noisy: { title: 'Noisy neighbour at the supervisor', body: noisy },
  images: { title: 'Image store: pull throughput, second zone of an image', body: images },
};

const FULL = { runs: 8, batches: 5, calls: 200_000, notifyCalls: 5_000, startRuns: 100, cliRuns: 30, workRuns: 7, density: 1000, densityRounds: 3, noisyRounds: 8 };
const QUICK = { runs: 1, batches: 2, calls: 2_000, notifyCalls: 200, startRuns: 2, cliRuns: 1, workRuns: 1, density: 3, densityRounds: 1, noisyRounds: 1 };

const USAGE = `usage: npm run bench -- [options]
  --sections LIST      comma-separated, of: ${SECTION_IDS.join(', ')} (default: all)
  --quick              tiny sizes (seconds): a smoke run, figures meaningless
  --runs N             process runs per loop variant (default ${FULL.runs})
  --batches N          batches per run (default ${FULL.batches})
  --calls N            passthrough calls per batch (default ${FULL.calls})
  --notify-calls N     notified calls per batch (default ${FULL.notifyCalls})
  --start-runs N       start-to-exit runs per variant (default ${FULL.startRuns})
  --cli-runs N         of which through the CLI (default ${FULL.cliRuns})
  --work-runs N        rounds per real-work task (default ${FULL.workRuns})
  --density N          zones booted at once (default ${FULL.density})
  --density-rounds N   (default ${FULL.densityRounds})
  --noisy-rounds N     (default ${FULL.noisyRounds})
  --out DIR            where latest.json / latest.md go (default bench/results)
  --docs / --no-docs   copy the tables into docs/performance.md (default: a full run of all sections;
                       never a run in which a section failed)
  --json               print the results JSON on stdout instead of the tables
peers: bwrap and proot are measured when installed (Debian: apt-get install -y bubblewrap proot).`;

function usage(msg: string): never {
  process.stderr.write(`bench: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

function parseOptions(argv: string[]): { opts: BenchOptions; json: boolean } {
  const num = { type: 'string' } as const;
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        sections: { type: 'string' }, quick: { type: 'boolean' }, runs: num, batches: num, calls: num,
        'notify-calls': num, 'start-runs': num, 'cli-runs': num, 'work-runs': num, density: num,
        'density-rounds': num, 'noisy-rounds': num, out: { type: 'string' }, docs: { type: 'boolean' },
        'no-docs': { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
    }).values;
  } catch (err) {
    usage((err as Error).message);
  }
  if (parsed.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const quick = parsed.quick ?? false;
  const base = quick ? QUICK : FULL;
  const int = (flag: keyof typeof parsed, dflt: number): number => {
    const v = parsed[flag];
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) usage(`--${flag} ${String(v)}: must be a positive integer`);
    return n;
  };
  let sections: SectionId[] = [...SECTION_IDS];
  if (parsed.sections !== undefined) {
    sections = parsed.sections.split(',').map((s) => s.trim()).filter(Boolean) as SectionId[];
    for (const s of sections) if (!SECTION_IDS.includes(s)) usage(`--sections: unknown section "${s}"`);
    if (!sections.length) usage('--sections: empty list');
  }
  const all = sections.length === SECTION_IDS.length;
  const opts: BenchOptions = {
    sections,
    quick,
    runs: int('runs', base.runs),
    batches: int('batches', base.batches),
    calls: int('calls', base.calls),
    notifyCalls: int('notify-calls', base.notifyCalls),
    startRuns: int('start-runs', base.startRuns),
    cliRuns: int('cli-runs', base.cliRuns),
    workRuns: int('work-runs', base.workRuns),
    density: int('density', base.density),
    densityRounds: int('density-rounds', base.densityRounds),
    noisyRounds: int('noisy-rounds', base.noisyRounds),
    out: parsed.out ?? join(repoRoot, 'bench', 'results'),
    docs: parsed['no-docs'] ? false : (parsed.docs ?? (!quick && all)),
  };
  return { opts, json: parsed.json ?? false };
}

async function main(): Promise<number> {
  const { opts, json } = parseOptions(process.argv.slice(2));
  if (process.getuid?.() !== 0) {
    process.stderr.write('bench: zones need root on this host; run as root\n');
    return 1;
  }
  const startedAt = new Date().toISOString();
  const machine = describeMachine();
  progress(`${machine.cpu}, ${machine.cores} cores, Linux ${machine.kernel}, load ${machine.loadAverageAtStart.join(' ')}`);
  buildFixtures();
  const sections = {} as Record<SectionId, SectionResult>;
  for (const id of SECTION_IDS) {
    const { title, body } = SECTIONS[id];
    sections[id] = opts.sections.includes(id)
      ? await runSection(id, title, opts, body)
      : { id, title, status: 'not-run', messages: [], rows: [], checks: [], durationMs: 0 };
  }
  const res: BenchResults = { version: 1, startedAt, finishedAt: new Date().toISOString(), commit: commitOf(), machine, options: opts, sections };
  const files = writeResults(res, opts.out);
  progress(`wrote ${files.json} and ${files.md}`);
  const failed = Object.values(sections).filter((s) => s.status === 'failed').map((s) => s.id);
  const refusal = unpublishable(res);
  if (opts.docs && failed.length) {
    progress(`docs/performance.md left as it was: section(s) ${failed.join(', ')} failed`);
  } else if (opts.docs && refusal) {
    progress(`docs/performance.md left as it was: ${refusal}`);
  } else if (opts.docs) {
    const doc = join(repoRoot, 'docs', 'performance.md');
    updateDoc(doc, res, join(repoRoot, DOC_TEMPLATE));
    progress(`updated ${doc}`);
  }
  process.stdout.write(json ? `${JSON.stringify(res, null, 2)}\n` : markdown(res));
  return failed.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  },
);
