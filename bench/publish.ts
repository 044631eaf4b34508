// `tsx bench/publish.ts RESULTS.json`: publishes a finished run's results
// (e.g. one made on a snapshot by bench/snapshot-run.sh) into this tree:
// bench/results/latest.{json,md}, samples.json (from the samples.json beside
// RESULTS.json) and docs/performance.md (from bench/performance.template.md).
// Refused: a run with a failed section or one that did not run every section
// (the published figures are always one whole run), and a run of anything but
// this tree's HEAD as committed (bench/lib/commit.ts).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { unpublishable } from './lib/commit.js';
import { progress, repoRoot } from './lib/exec.js';
import { DOC_TEMPLATE, updateDoc, writeResults } from './lib/report.js';
import type { BenchResults } from './lib/types.js';

function refuse(msg: string): never {
  process.stderr.write(`bench: ${msg}; not published\n`);
  process.exit(1);
}

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: tsx bench/publish.ts RESULTS.json\n');
  process.exit(2);
}
const res = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
if (res.version !== 1 || !res.sections) refuse(`${file}: not a bench results file (version 1)`);
const failed = Object.values(res.sections).filter((s) => s.status === 'failed' || s.status === 'not-run');
if (failed.length) refuse(`${file}: ${failed.map((s) => `${s.id} ${s.status}`).join(', ')}`);
const why = unpublishable(res);
if (why) refuse(why);

// Put each row's raw samples back, so that they are published beside it.
const samplesFile = join(dirname(file), 'samples.json');
if (!existsSync(samplesFile)) refuse(`${samplesFile}: missing (the raw samples of the run)`);
const samples = JSON.parse(readFileSync(samplesFile, 'utf8')) as { sections: Record<string, { name: string; variant: string; raw: number[] }[]> };
for (const [id, s] of Object.entries(res.sections)) {
  for (const r of s.rows) r.raw = samples.sections[id]?.find((x) => x.name === r.name && x.variant === r.variant)?.raw;
}

const out = writeResults(res, join(repoRoot, 'bench', 'results'));
updateDoc(join(repoRoot, 'docs', 'performance.md'), res, join(repoRoot, DOC_TEMPLATE));
progress(`published ${file} (commit ${res.commit}) to ${out.json}, ${out.samples}, ${out.md} and docs/performance.md`);
