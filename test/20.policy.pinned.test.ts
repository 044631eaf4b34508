// The default profile's refusals are reviewed data (test/pinned/default-profile.json,
// written only by `npm run pin:profile`): a rule change that turns a refused
// syscall into an allowed one, or back, fails here with the difference until
// someone has looked at it. Then every refusal is checked where it counts:
// a fixture in a real zone calls each refused x86_64 syscall (argument rules:
// with arguments their refusing rule matches) and the kernel's answer must be
// the pinned errno. A kernel that refuses the same call with the same errno
// on its own (EPERM for a privileged call) cannot be told apart; the calls
// whose native answer differs (pidfd_getfd: EBADF, kcmp: ESRCH, …) can.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { holds } from '../src/policy/conditions.js';
import { resolveProfile } from '../src/policy/index.js';
import { diffDecisions, pinnedDecisions, type PinnedDecisions } from '../src/policy/pinned.js';
import type { Condition } from '../src/policy/types.js';
import { runZone } from '../src/zone/run.js';
import { repoRoot } from './support/zones.js';

const PINNED = join(repoRoot, 'test', 'pinned', 'default-profile.json');
const pinned = JSON.parse(readFileSync(PINNED, 'utf8')) as PinnedDecisions;

/** Arguments that satisfy every condition of a rule (undefined when the simple choice does not). */
function argsFor(when: Condition[]): bigint[] | undefined {
  const a = [0n, 0n, 0n, 0n, 0n, 0n];
  for (const c of when) {
    const v = c.op === 'gt' ? c.value + 1n : c.op === 'lt' ? c.value - 1n : c.op === 'ne' ? c.value ^ 1n : c.value;
    a[c.arg] = c.op === 'masked_eq' ? (a[c.arg]! & ~c.mask) | c.value : v;
  }
  return when.every((c) => holds(c, a[c.arg]!)) ? a : undefined;
}

describe('the default profile\'s refusals, pinned', () => {
  it('match the reviewed copy (else review the lines below, then npm run pin:profile)', () => {
    const diff = diffDecisions(pinned, pinnedDecisions());
    expect(diff.join('\n'), `${PINNED} differs from the rules:\n${diff.join('\n')}\nreview, then: npm run pin:profile`).toBe('');
  });

  it('are what the kernel answers each refused call in a zone (x86_64)', async () => {
    execFileSync('make', ['-s', '-C', join(repoRoot, 'fixtures'), 'bin/escapes/refused_calls'], { stdio: 'pipe' });
    const expected = new Map<string, { spec: string; errno: string }>();
    for (const s of resolveProfile('default', 'x86_64').syscalls) {
      if (!s.conditional && s.disposition.startsWith('errno:')) {
        expected.set(`${s.name}`, { spec: String(s.nr), errno: s.disposition.slice(6) });
        continue;
      }
      if (s.disposition.startsWith('errno:')) {
        // Refused unless a rule lets it through: arguments no rule matches.
        const none = [0n, 1n, 0xffffn, 0xdeadbeefn].map((v) => [v, 0n, 0n, 0n, 0n, 0n]).find((a) => !s.rules.some((r) => r.when.every((c) => holds(c, a[c.arg]!))));
        if (none) expected.set(s.name, { spec: [s.nr, ...none.map((x) => `0x${x.toString(16)}`)].join(':'), errno: s.disposition.slice(6) });
      }
      s.rules.forEach((r, j) => {
        const args = argsFor(r.when);
        if (!r.disposition.startsWith('errno:') || !args) return;
        expected.set(`${s.name} rule ${j}`, { spec: [s.nr, ...args.map((x) => `0x${x.toString(16)}`)].join(':'), errno: r.disposition.slice(6) });
      });
    }
    // The pinned copy says these are refused: the zone run must cover them all.
    for (const [name, text] of Object.entries(pinned.x86_64)) {
      if (text.startsWith('errno:')) expect(expected.has(name), name).toBe(true);
    }
    expect(expected.has('process_madvise')).toBe(true);
    // Bound in at a path of the zone's own: a checkout under /tmp (mktemp -d) is not in the zone's view.
    const r = await runZone({
      argv: ['/tmp/lxzone-escapes/refused_calls', ...[...expected.values()].map((e) => e.spec)],
      stdio: 'pipe',
      binds: [{ host: join(repoRoot, 'fixtures/bin/escapes'), zone: '/tmp/lxzone-escapes', readOnly: true }],
    });
    expect(r.exitCode, r.stderr?.toString()).toBe(0);
    const got = (r.stdout ?? Buffer.alloc(0)).toString().trim().split('\n');
    const names = [...expected.keys()];
    expect(got).toHaveLength(names.length);
    const wrong = names
      .map((name, i) => ({ name, want: expected.get(name)!.errno, line: got[i]! }))
      .filter(({ want, line }) => !line.endsWith(` -1 ${want}`))
      .map(({ name, want, line }) => `${name}: expected -1 ${want}, zone answered "${line}"`);
    expect(wrong).toEqual([]);
  });
});
