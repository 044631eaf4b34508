// The manifest and known-failures files: valid, and the manifest lists
// exactly the cases each conformance probe declares (a new case must say
// what holds in a zone; a stale entry is an error), for every ABI built.
import { readdirSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildFixtures, listCases, loadKnownFailures, loadManifest, parseManifest } from '../src/conformance/index.js';
import { BUILTIN_PROFILES } from '../src/policy/index.js';
import { ABIS } from '../src/tables/index.js';
import { runnableProbeDirs } from './support/i386.js';

beforeAll(() => buildFixtures(), 300_000);

describe('fixtures/conformance/manifest.json', () => {
  it('is valid, with zone settings and a timeout', () => {
    const m = loadManifest();
    expect(m.zone.kernelVersion).toMatch(/^\d+\.\d+/);
    expect(Object.keys(m.probes).length).toBeGreaterThanOrEqual(12);
    expect(Object.keys(m.programs).sort()).toEqual(['busybox', 'coreutils', 'gcc', 'git', 'node', 'python3', 'sqlite3']);
  });

  it('lists exactly the cases every probe binary declares, on every ABI built', () => {
    const m = loadManifest();
    let checked = 0;
    for (const { abi, dir } of runnableProbeDirs()) {
      const built = readdirSync(dir).filter((f) => f.startsWith('probe_')).sort();
      expect(built, `${abi}: probes built vs manifest`).toEqual(Object.keys(m.probes).sort());
      for (const probe of built) {
        expect(listCases(`${dir}/${probe}`).sort(), `${abi} ${probe}`).toEqual(Object.keys(m.probes[probe]!.cases).sort());
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(12);
  });

  it('names the field of a bad entry', () => {
    const base = { version: 1, zone: { hostname: 'h', kernelVersion: '5.15.0' }, timeoutMs: 5000, programs: {} };
    expect(() => parseManifest({ ...base, probes: { p: { cases: { c: { zoneOnly: true } } } } }, 'm.json'))
      .toThrow(/m\.json: probes\.p\.cases\.c: a zone-only case needs zone expectations/);
    expect(() => parseManifest({ ...base, probes: { p: { cases: { c: { zone: [{ syscall: 'uname', data: { r: { re: '(' } } }] } } } } }, 'm.json'))
      .toThrow(/bad regular expression \(/);
    expect(() => parseManifest({ ...base, probes: { p: { cases: { c: { zone: [{ syscall: 'uname', rett: 1 }] } } } } }, 'm.json'))
      .toThrow(/m\.json: invalid conformance manifest/);
    expect(() => parseManifest({ ...base, probes: { p: { cases: { c: { ignore: ['ret'] } } } } }, 'm.json'))
      .toThrow(/invalid conformance manifest/);
  });
});

describe('fixtures/conformance/known-failures.json', () => {
  it('is valid and every entry names a case of the manifest with a reason', () => {
    const m = loadManifest();
    const known = loadKnownFailures();
    for (const [key, reason] of Object.entries(known)) {
      // optional qualifiers: "<profile>:" then "<abi>:"
      const id = key.replace(new RegExp(`^(${BUILTIN_PROFILES.join('|')}):`), '').replace(new RegExp(`^(${ABIS.join('|')}):`), '');
      const [probe, name] = id.split('/');
      const exists = probe === 'program' ? name! in m.programs : !!m.probes[probe!]?.cases[name!];
      expect(exists, `${key} is not a case of the manifest`).toBe(true);
      expect(reason.length).toBeGreaterThan(10);
    }
  });
});
