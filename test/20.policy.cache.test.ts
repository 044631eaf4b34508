// The precompiled policies the build ships (dist/policy-cache/, written by
// scripts/precompile-policies.mjs at npm ci): each is exactly what compiling
// its input gives now, and a key changes with every input that matters.
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
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

  it('treats a damaged entry as a miss (the caller compiles)', () => {
    const key = built.policyKey({ profile: 'default', abis, allowNesting: false, netRaw: false }, abis)!;
    const dir = mkdtempSync(join(tmpdir(), 'lxzone-policy-cache-'));
    try {
      const file = join(built.cacheDir(), `${key}.json`);
      copyFileSync(file, join(dir, 'saved'));
      writeFileSync(file, '{"format":1,"bpf":"AAAA","dispatch":"","instructions":7}\n');
      expect(built.readCached(key)).toBeUndefined();
      copyFileSync(join(dir, 'saved'), file);
      expect(built.readCached(key)).toBeDefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(existsSync(join(built.cacheDir(), `${key}.json`))).toBe(true);
  });

  it('takes the inputs hash recorded at build only while every input file is the one hashed', () => {
    const recorded = built.recordedInputsHash();
    expect(recorded, 'inputs.stat written by the build matches the files').toBeDefined();
    expect(recorded).toBe(built.hashInputsNow());
    // Same content and times, but the kernel moves the ctime: the record no longer vouches for it.
    const file = join(dist, 'compile.js');
    const st = statSync(file);
    try {
      utimesSync(file, st.atime, st.mtime);
      expect(built.recordedInputsHash()).toBeUndefined();
      expect(built.hashInputsNow()).toBe(recorded);
    } finally {
      built.writeInputsStat();
    }
    expect(built.recordedInputsHash()).toBe(recorded);
  });
});
