// `tsx bench/publish.ts RESULTS.json`: publishes a finished run's results
// (e.g. one made on a snapshot by bench/snapshot-run.sh) into this tree:
// bench/results/latest.{json,md} and the results block of
// docs/performance.md. A run with a failed section, or one that did not run
// every section, is refused: the published figures are always one whole run.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { progress, repoRoot } from './lib/exec.js';
import { updateDoc, writeResults } from './lib/report.js';
import type { BenchResults } from './lib/types.js';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: tsx bench/publish.ts RESULTS.json\n');
  process.exit(2);
}
const res = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;
if (res.version !== 1 || !res.sections) {
  process.stderr.write(`bench: ${file}: not a bench results file (version 1)\n`);
  process.exit(1);
}
const failed = Object.values(res.sections).filter((s) => s.status === 'failed' || s.status === 'not-run');
if (failed.length) {
  process.stderr.write(`bench: ${file}: ${failed.map((s) => `${s.id} ${s.status}`).join(', ')}; not published\n`);
  process.exit(1);
}
const out = writeResults(res, join(repoRoot, 'bench', 'results'));
updateDoc(join(repoRoot, 'docs', 'performance.md'), res);
progress(`published ${file} (commit ${res.commit}) to ${out.json}, ${out.md} and docs/performance.md`);
