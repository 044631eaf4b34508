// The precompiled policies the build ships (dist/policy-cache/, written by
// scripts/precompile-policies.mjs at npm ci): each is exactly what compiling
// its input gives now, and a key changes with every input that matters.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compilePolicy } from '../src/policy/compile.js';
import { driverFilterInput } from '../src/policy/driver-filter.js';
import { utsServerFilterInput } from '../src/policy/uts-server-filter.js';
import { BUILTIN_PROFILES } from '../src/policy/load.js';
import { hostAbis } from '../src/tables/index.js';

const dist = resolve(import.meta.dirname, '..', 'dist', 'policy');
const built = (await import(join(dist, 'cache.js'))) as typeof import('../src/policy/cache.js');

describe('dist/policy-cache', () => {
  const abis = hostAbis();
  const inputs = [
    ...BUILTIN_PROFILES.flatMap((profile) =>
      [false, true].flatMap((allowNesting) => [false, true].map((netRaw) => ({ profile, abis, allowNesting, netRaw })))),
    // The FUSE drivers' filter and the UTS sysctl server's, read at every zone start
    // (src/policy/driver-filter.ts, uts-server-filter.ts).
    driverFilterInput(abis),
    utsServerFilterInput(abis),
  ];

  it('holds one entry per shipped profile and option set (and the FUSE drivers\' and the UTS sysctl server\'s filters), each equal to a fresh compile', () => {
    expect(readdirSync(built.cacheDir()).filter((n) => n.endsWith('.json')).length).toBe(inputs.length);
    for (const input of inputs) {
      const key = built.policyKey(input, input.abis!);
      expect(key, JSON.stringify(input)).toBeDefined();
      const hit = built.readCached(key!);
      expect(hit, `${JSON.stringify(input)}: no entry ${key}`).toBeDefined();
      const fresh = compilePolicy(input); // from src/: no cache beside it, always compiled
      expect(hit!.bpf.equals(fresh.bpf), `${input.profile} bpf`).toBe(true);
      expect(hit!.dispatch.equals(fresh.dispatch), `${input.profile} dispatch`).toBe(true);
      expect(hit!.instructions).toBe(fresh.instructions);
    }
  });

  it('keys differ by profile, option and ABI set; absent and false options are the same', () => {
    const key = (i: object, a = abis): string | undefined => built.policyKey(i as never, a);
    const base = key({ profile: 'default' });
    expect(key({ profile: 'default', allowNesting: false })).toBe(base);
    expect(key({ profile: 'default', allowNesting: true })).not.toBe(base);
    expect(key({ profile: 'strict' })).not.toBe(base);
    expect(key({ profile: 'default', extraRules: [{ names: ['uname'], disposition: 'errno:EPERM' }] })).not.toBe(base);
    expect(key({ profile: 'default' }, ['x86_64'])).not.toBe(key({ profile: 'default' }, ['x86_64', 'i386']));
  });

  it('never caches a profile given as a path or synthetic tables', () => {
    expect(built.policyKey({ profile: '/etc/lxzone/mine.json' }, abis)).toBeUndefined();
    expect(built.policyKey({ profile: 'default', tables: () => { throw new Error('unused'); } }, abis)).toBeUndefined();
  });

  // Both tests below work on private copies: dist/policy/ and dist/policy-cache/ are
  // read by every zone start and recorded by every launch description
  // (src/cli/launch-description.ts), so touching them fails other test files running at once.
  it('treats a damaged entry as a miss (the caller compiles)', () => {
    const key = built.policyKey({ profile: 'default', abis, allowNesting: false, netRaw: false }, abis)!;
    const dir = mkdtempSync(join(tmpdir(), 'lxzone-policy-cache-'));
    try {
      const file = join(dir, `${key}.json`);
      copyFileSync(join(built.cacheDir(), `${key}.json`), file);
      expect(built.readCached(key, dir)).toBeDefined();
      writeFileSync(file, '{"format":1,"bpf":"AAAA","dispatch":"","instructions":7}\n');
      expect(built.readCached(key, dir)).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('takes the inputs hash recorded at build only while every input file is the one hashed', () => {
    const recorded = built.recordedInputsHash();
    expect(recorded, 'inputs.stat written by the build matches the files').toBeDefined();
    expect(recorded).toBe(built.hashInputsNow());
    const dir = mkdtempSync(join(tmpdir(), 'lxzone-policy-inputs-'));
    try {
      // One directory per file: base names repeat (dist/policy/index.js, dist/tables/index.js), and
      // the hash covers base names and content only, so the copies hash as the build's files do.
      const files = built.policyInputFiles().map((f, i) => {
        mkdirSync(join(dir, `${i}`));
        const copy = join(dir, `${i}`, basename(f));
        copyFileSync(f, copy);
        return copy;
      });
      // Whole seconds, so setting them again gives the very same mtime (a Date would drop the ns).
      const file = files.find((f) => f.endsWith('/compile.js'))!;
      expect(file).toBeDefined();
      utimesSync(file, 1_700_000_000, 1_700_000_000);
      const stat = join(dir, 'inputs.stat');
      built.writeInputsStatOf(files, stat);
      expect(built.recordedHashOf(files, stat)).toBe(recorded);
      // Same content and times, but the kernel moves the ctime: the record no longer vouches for it.
      // (Repeated until the ctime has moved: two calls may fall within one tick of its clock.)
      const before = statSync(file, { bigint: true });
      let after = before;
      while (after.ctimeNs === before.ctimeNs) {
        utimesSync(file, 1_700_000_000, 1_700_000_000);
        after = statSync(file, { bigint: true });
      }
      expect(after.mtimeNs).toBe(before.mtimeNs);
      expect(built.recordedHashOf(files, stat)).toBeUndefined();
      expect(built.hashInputFiles(files)).toBe(recorded);
      built.writeInputsStatOf(files, stat);
      expect(built.recordedHashOf(files, stat)).toBe(recorded);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(built.recordedInputsHash()).toBe(recorded);
  });
});
