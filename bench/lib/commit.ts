// Which commit a run measured, and whether its figures may be published: the
// published figures (bench/results/latest.*, docs/performance.md) are always
// those of one whole run of git HEAD as committed. A tree with changes
// (other than the published files themselves) measures something no commit
// holds, and a run of another commit describes code that is not HEAD's.
import { spawnSync } from 'node:child_process';
import { repoRoot } from './exec.js';
import type { BenchResults } from './types.js';

/** Where a run writes: changes here are the publishing itself, not to what was measured. */
const PUBLISHED = [':!bench/results', ':!docs/performance.md'];

function git(args: string[], cwd: string): string | undefined {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.replace(/\n+$/, '') : undefined;
}

export function headCommit(cwd = repoRoot): string | undefined {
  return git(['rev-parse', '--short=12', 'HEAD'], cwd);
}

/** Tracked files that differ from HEAD, beyond the published ones. */
export function dirtyFiles(cwd = repoRoot): string[] {
  const out = git(['status', '--porcelain', '--untracked-files=no', '--', '.', ...PUBLISHED], cwd);
  return out ? out.split('\n').map((l) => l.slice(3)) : [];
}

/** What is measured: git HEAD (with "+dirty" when tracked files differ), or what a snapshot says it is. */
export function commitOf(): string {
  if (process.env.LXZONE_BENCH_COMMIT) return process.env.LXZONE_BENCH_COMMIT;
  const head = headCommit();
  if (!head) return 'unknown';
  return dirtyFiles().length ? `${head}+dirty` : head;
}

/** Why these results may not be published into this tree now, or undefined when they may. */
export function unpublishable(res: Pick<BenchResults, 'commit'>, cwd = repoRoot): string | undefined {
  const head = headCommit(cwd);
  if (!head) return 'not a git checkout: the figures would name no commit';
  const dirty = dirtyFiles(cwd);
  if (dirty.length) return `the tree differs from HEAD (${dirty.slice(0, 5).join(', ')}${dirty.length > 5 ? ', …' : ''}): commit first`;
  if (res.commit !== head) return `the run measured ${res.commit}, HEAD is ${head}: run the bench again at HEAD`;
  return undefined;
}
