// The benchmark harness (npm run bench) at tiny sizes, so it cannot rot:
// every section runs and reports numbers. Structure only; speed is bench/'s
// business, never a test's.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECTION_IDS, type BenchResults } from '../bench/lib/types.js';
import { expectNothingLeft, hostSnapshot, repoRoot } from './support/zones.js';

let out: string;
let run: { status: number | null; stdout: string; stderr: string };
let results: BenchResults;

beforeAll(async () => {
  out = mkdtempSync(join(tmpdir(), 'lxzone-bench-smoke-'));
  const before = hostSnapshot();
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'bench', 'run.ts'), '--quick', '--no-docs', '--json', '--out', out], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 170_000,
  });
  run = { status: r.status, stdout: r.stdout, stderr: r.stderr };
  results = JSON.parse(r.stdout) as BenchResults;
  await expectNothingLeft(before);
}, 180_000);

afterAll(() => {
  rmSync(out, { recursive: true, force: true });
});

describe('npm run bench --quick', () => {
  it('exits 0 with progress on stderr and the JSON on stdout', () => {
    expect(run.stderr).toMatch(/^bench: passthrough: /m);
    expect(run.status, run.stderr).toBe(0);
    expect(results.version).toBe(1);
    expect(results.options.quick).toBe(true);
    expect(results.commit).toMatch(/^[0-9a-f]{7,}|^unknown$/);
  });

  it('describes the machine', () => {
    const m = results.machine;
    expect(m.cpu).not.toBe('');
    expect(m.cores).toBeGreaterThan(0);
    expect(m.memoryBytes).toBeGreaterThan(0);
    expect(m.kernel).toMatch(/^\d+\.\d+/);
  });

  it('runs every section, none failed, each with medians that are numbers', () => {
    expect(Object.keys(results.sections).sort()).toEqual([...SECTION_IDS].sort());
    for (const id of SECTION_IDS) {
      const s = results.sections[id];
      expect(['ok', 'partial'], `${id}: ${s.status} ${s.messages.join('; ')}`).toContain(s.status);
      // A partial section says what it skipped.
      if (s.status === 'partial') expect(s.messages.some((m) => m.startsWith('skipped: '))).toBe(true);
      expect(s.rows.length, id).toBeGreaterThan(0);
      for (const r of s.rows) {
        expect(typeof r.median, `${id} ${r.name} ${r.variant}`).toBe('number');
        expect(Number.isFinite(r.median), `${id} ${r.name} ${r.variant}`).toBe(true);
        expect(r.samples).toBeGreaterThan(0);
        if (r.ratio !== undefined) expect(typeof r.ratio).toBe('number');
      }
      expect(s.checks.length, id).toBeGreaterThan(0);
      // Every section measures lxzone itself.
      expect(s.rows.some((r) => r.variant.startsWith('lxzone') || id === 'noisy')).toBe(true);
    }
  });

  it('measures each item of the issue on both sides', () => {
    const variants = (id: (typeof SECTION_IDS)[number], name: RegExp) =>
      results.sections[id].rows.filter((r) => name.test(r.name)).map((r) => r.variant);
    const split = ['native', 'native + ALLOW-all filter', 'native + lxzone filter', 'lxzone'];
    expect(variants('passthrough', /^getppid$/)).toEqual(split);
    expect(variants('passthrough', /^open\+close$/)).toEqual(split);
    expect(variants('notified', /uname/)).toEqual(expect.arrayContaining(['native', 'SECCOMP_RET_TRAP', 'lxzone']));
    expect(variants('notified', /^unknown syscall$/)).toEqual(['native', 'lxzone']);
    expect(variants('notified', /context switch/)).toEqual(expect.arrayContaining(['pipe, one CPU', 'futex, one CPU']));
    expect(variants('start', /bin\/true/)).toEqual(expect.arrayContaining(['native', 'lxzone API', 'lxzone CLI', 'lxzone CLI through Node', 'node -e 0']));
    for (const task of [/^find /, /^python3/, /^gcc/, /^untar/]) {
      const v = variants('work', task);
      // python3 and gcc may be missing on a host: then the section says it skipped them.
      if (v.length || !/python3|gcc/.test(task.source)) expect(v, task.source).toEqual(['native', 'lxzone']);
    }
    expect(variants('density', /^boot \d/)).toEqual(['native', 'lxzone', 'lxzone, one shared id range']);
    expect(variants('density', /^boot rate/)).toEqual(['lxzone']);
    expect(variants('noisy', /uname round trip/)).toEqual(['quiet supervisor', 'zone B flooding']);
    // Skipped (and saying why) without the registry tools or root.
    if (results.sections.images.status !== 'partial') {
      expect(variants('images', /^pull from/)).toEqual(['lxzone pull', 'skopeo copy']);
      // A second zone of a stored image, and one named by its tar file (imported by the
      // first such create), in time; the disk the store's way adds.
      expect(variants('images', /second zone|new disk/)).toEqual(['lxzone, image store', 'lxzone, from the tar file', 'lxzone, image store', 'lxzone, image store']);
      expect(variants('images', /first create from the tar file/)).toEqual(['lxzone, from the tar file']);
    } else expect(results.sections.images.messages.join('\n')).toMatch(/skipped: /);
  });

  it('says why a peer is missing instead of failing', () => {
    const start = results.sections.start;
    const variants = start.rows.map((r) => r.variant);
    if (!variants.includes('bwrap --unshare-all')) expect(start.messages.join('\n')).toMatch(/bwrap not installed.*apt-get install/);
    if (!variants.includes('proot -r')) expect(start.messages.join('\n')).toMatch(/proot not installed.*apt-get install/);
  });

  it('writes latest.json and a markdown table with every section', () => {
    expect(JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')).startedAt).toBe(results.startedAt);
    const md = readFileSync(join(out, 'latest.md'), 'utf8');
    for (const id of SECTION_IDS) expect(md).toContain(results.sections[id].title);
    expect(md).toMatch(/\| measured \| variant \| median \|/);
    expect(existsSync(join(out, 'latest.json.tmp'))).toBe(false);
  });
});
