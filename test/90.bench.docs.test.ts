// The published bench figures: docs/performance.md is its template rendered
// with bench/results/latest.json (so its text quotes only figures of the run
// whose tables it shows), and only a run of HEAD as committed is publishable.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { unpublishable } from '../bench/lib/commit.js';
import { DOC_TEMPLATE, renderDoc } from '../bench/lib/report.js';
import type { BenchResults } from '../bench/lib/types.js';

const root = resolve(import.meta.dirname, '..');
const latest = JSON.parse(readFileSync(join(root, 'bench', 'results', 'latest.json'), 'utf8')) as BenchResults;

describe('docs/performance.md', () => {
  it('is bench/performance.template.md rendered with bench/results/latest.json', () => {
    const rendered = renderDoc(readFileSync(join(root, DOC_TEMPLATE), 'utf8'), latest);
    expect(readFileSync(join(root, 'docs', 'performance.md'), 'utf8')).toBe(rendered);
  });

  it("names the density rows by the run's own zone count ($N, {{options|density}})", () => {
    const n = latest.options.density;
    const boot = latest.sections.density.rows.find((r) => r.name === `boot ${n} at once, all sleeping` && r.variant === 'lxzone')!;
    expect(renderDoc('{{options|density}} zones: {{density|boot $N at once, all sleeping|lxzone|median}}', latest)).toBe(`${n} zones: ${renderDoc(`{{density|boot ${n} at once, all sleeping|lxzone|median}}`, latest)}`);
    expect(boot.median).not.toBeNull();
  });

  it('refuses a placeholder that names no figure of the run', () => {
    expect(() => renderDoc('x {{start|no such row|lxzone|median}}', latest)).toThrow(/no such row/);
  });
});

describe('publishing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lxzone-bench-git-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const git = (...args: string[]): string => {
    const r = spawnSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...args], { cwd: dir, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout.trim();
  };

  it('takes only a run of HEAD as committed', () => {
    git('init', '-q');
    writeFileSync(join(dir, 'code.c'), 'int main(){}\n');
    git('add', '.');
    git('commit', '-qm', 'one');
    const head = git('rev-parse', '--short=12', 'HEAD');
    expect(unpublishable({ commit: head }, dir)).toBeUndefined();
    expect(unpublishable({ commit: `${head}+dirty` }, dir)).toMatch(/HEAD is/);
    expect(unpublishable({ commit: '0123456789ab' }, dir)).toMatch(/run the bench again at HEAD/);
    writeFileSync(join(dir, 'code.c'), 'int main(){return 1;}\n');
    expect(unpublishable({ commit: head }, dir)).toMatch(/differs from HEAD \(code\.c\)/);
  });
});
