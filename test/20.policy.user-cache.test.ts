// Compiles the build did not make are kept in <state>/cache/policy/
// (src/policy/user-cache.ts) for the next zone start. A cached filter is what
// the kernel enforces on a zone, so an entry anyone else could have written,
// or one moved from another key, must never be read: these plant such entries
// as an attacker would and expect a fresh compile instead.
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeEntry, policyKey } from '../src/policy/cache.js';
import { compilePolicy, type CompileInput } from '../src/policy/compile.js';
import { readUserCached, userCacheDir } from '../src/policy/user-cache.js';
import { hostAbis } from '../src/tables/index.js';

const abis = hostAbis();
// Inputs no build ships: a zone's own rules.
const strictish: CompileInput = { profile: 'default', abis, extraRules: [{ names: ['uname'], disposition: 'errno:EPERM', reason: 'security', note: 'a zone rule (test)' }] };
const lax: CompileInput = { profile: 'permissive', abis, extraRules: [{ names: ['uname'], disposition: 'errno:EPERM', reason: 'security', note: 'a zone rule (test)' }] };

let state: string;
const savedEnv = process.env.LXZONE_STATE_DIR;
beforeEach(() => {
  state = mkdtempSync(join(tmpdir(), 'lxzone-policy-user-cache-'));
  chmodSync(state, 0o700);
  process.env.LXZONE_STATE_DIR = state;
});
afterEach(() => {
  if (savedEnv === undefined) delete process.env.LXZONE_STATE_DIR;
  else process.env.LXZONE_STATE_DIR = savedEnv;
  rmSync(state, { recursive: true, force: true });
});

const keyOf = (i: CompileInput): string => policyKey(i, abis)!;
const entryOf = (i: CompileInput): string => join(userCacheDir(), `${keyOf(i)}.json`);

describe('the state directory policy cache', () => {
  it('a zone start keeps its compile there, private, and the next start reads it back', () => {
    const fresh = compilePolicy(strictish, { userCache: true });
    expect(readdirSync(userCacheDir())).toEqual([`${keyOf(strictish)}.json`]);
    const hit = readUserCached(keyOf(strictish));
    expect(hit?.bpf.equals(fresh.bpf)).toBe(true);
    expect(hit?.dispatch.equals(fresh.dispatch)).toBe(true);
  });

  it('callers other than a zone start (build, docs, lxzone policy) leave it alone', () => {
    compilePolicy(strictish);
    expect(() => readdirSync(userCacheDir())).toThrow(/ENOENT/);
  });

  it('a start returns what a well-formed entry of ours holds, without compiling', () => {
    // Ours, with the right checksum, holding another input's filter: a start must return it as it is.
    const laxPolicy = compilePolicy(lax, { userCache: true });
    const key = keyOf(strictish);
    const sum = createHash('sha256').update(`${key}\0`).update(laxPolicy.bpf).update(laxPolicy.dispatch).digest('hex');
    writeFileSync(entryOf(strictish), `${encodeEntry(laxPolicy)}${sum}\n`, { mode: 0o600 });
    expect(compilePolicy(strictish, { userCache: true }).bpf.equals(laxPolicy.bpf)).toBe(true);
    expect(compilePolicy(strictish).bpf.equals(laxPolicy.bpf)).toBe(false);
  });

  it('refuses an entry moved from another key (the checksum covers the key) and replaces it', () => {
    const laxPolicy = compilePolicy(lax, { userCache: true });
    renameSync(entryOf(lax), entryOf(strictish));
    expect(readUserCached(keyOf(strictish))).toBeUndefined();
    const compiled = compilePolicy(strictish, { userCache: true });
    expect(compiled.bpf.equals(laxPolicy.bpf)).toBe(false);
    expect(readUserCached(keyOf(strictish))!.bpf.equals(compiled.bpf)).toBe(true);
  });

  it('ignores an entry owned by another user, one others can write, a symlink, a damaged one', () => {
    const good = compilePolicy(strictish, { userCache: true });
    const file = entryOf(strictish);
    const text = readFileSync(file, 'utf8');
    const key = keyOf(strictish);

    chownSync(file, 65534, 65534); // planted by nobody
    expect(readUserCached(key)).toBeUndefined();
    chownSync(file, 0, 0);
    expect(readUserCached(key)).toBeDefined();

    chmodSync(file, 0o622); // writable by group and others
    expect(readUserCached(key)).toBeUndefined();
    chmodSync(file, 0o600);

    const elsewhere = join(state, 'planted.json');
    writeFileSync(elsewhere, text, { mode: 0o600 });
    rmSync(file);
    symlinkSync(elsewhere, file);
    expect(readUserCached(key)).toBeUndefined();
    rmSync(file);

    // One character of the filter changed, its checksum left as it was.
    const damaged = text.replace(/"bpf":"(.)/, (_m, c: string) => `"bpf":"${c === 'A' ? 'B' : 'A'}`);
    expect(damaged).not.toBe(text);
    writeFileSync(file, damaged, { mode: 0o600 });
    expect(readUserCached(key)).toBeUndefined();
    expect(compilePolicy(strictish, { userCache: true }).bpf.equals(good.bpf)).toBe(true);
  });

  it('ignores the whole cache when its directory is writable by others', () => {
    compilePolicy(strictish, { userCache: true });
    chmodSync(userCacheDir(), 0o777);
    expect(readUserCached(keyOf(strictish))).toBeUndefined();
    // A start still works (it compiles) and leaves the directory as it found it.
    expect(compilePolicy(strictish, { userCache: true }).instructions).toBeGreaterThan(0);
    chmodSync(userCacheDir(), 0o700);
    expect(readUserCached(keyOf(strictish))).toBeDefined();
  });
});
