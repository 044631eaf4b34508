// The tag each test file gives its private installation (lifecycleEnv and the
// helpers over it: useLifecycleEnv, useDocker, leakCheckedLifecycle) names its
// bridge (lxz<tag>-…) and the second octet of its subnet (10.<100 + tag>):
// two files with one tag running at once in CI's workers meet on the same
// subnet whenever their pids agree modulo 256. Each tag is one file's, and
// fits an address octet.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './support/zones.js';

const CALL = /\b(?:useLifecycleEnv|lifecycleEnv|leakCheckedLifecycle|useDocker)\((\d+)\b/g;

describe('the lifecycle tags of the test files', () => {
  it('are each one file\'s, and 10.<100 + tag> is an address', () => {
    const dir = join(repoRoot, 'test');
    const byTag = new Map<number, Set<string>>();
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.test.ts'))) {
      for (const m of readFileSync(join(dir, f), 'utf8').matchAll(CALL)) {
        const tag = Number(m[1]);
        byTag.set(tag, (byTag.get(tag) ?? new Set()).add(f));
      }
    }
    // The scan finds them (a renamed helper would leave nothing to compare).
    expect(byTag.size).toBeGreaterThan(40);
    const shared = [...byTag].filter(([, files]) => files.size > 1).map(([tag, files]) => `${tag}: ${[...files].sort().join(', ')}`);
    expect(shared, 'tags used by more than one file').toEqual([]);
    expect([...byTag.keys()].filter((t) => t > 155), 'tags past 155 (10.<100 + tag> is no address)').toEqual([]);
  });
});
