// The suite itself, in real zones (default profile): every manifest case on
// every ABI this host builds probes for must pass, or fail as listed in
// known-failures.json. Also: the suite can fail (a wrong expectation is
// caught), and its result file is what `lxzone syscalls` reads.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildFixtures, describeCase, loadManifest, runSuite, writeResults, type CaseResult, type ConformanceResultFile, type Manifest,
} from '../src/conformance/index.js';
import { parseResults } from '../src/coverage/results.js';
import { resolveProfile } from '../src/policy/index.js';
import { runnableProbeDirs } from './support/i386.js';

buildFixtures();
const manifest = loadManifest();
const abis = runnableProbeDirs().map((d) => d.abi);
const caseIds = Object.entries(manifest.probes).flatMap(([p, s]) => Object.keys(s.cases).map((c) => `${p}/${c}`));

const runs = new Map<string, ConformanceResultFile>();
const dir = mkdtempSync(join(tmpdir(), 'lxzone-conformance-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(abis)('conformance in zones (%s, default profile)', (abi) => {
  let result: ConformanceResultFile;
  const byId = new Map<string, CaseResult>();
  beforeAll(async () => {
    result = await runSuite({ abis: [abi], programs: false, noBuild: true });
    runs.set(abi, result);
    for (const c of result.cases) byId.set(c.id, c);
  }, 600_000);

  it.each(caseIds)('%s', (id) => {
    const c = byId.get(id);
    expect(c, `${id} did not run`).toBeDefined();
    if (c!.status === 'fail' && c!.knownFailure !== undefined) return; // listed, with its reason, in the report
    expect(c!.status === 'pass' || c!.status === 'skip', describeCase(c!)).toBe(true);
    if (c!.status === 'skip') expect(c!.reason).toBeTruthy();
  });

  it('exercises every syscall the default profile lets a zone make', () => {
    const table = result.syscalls[abi] ?? {};
    const exercised = Object.keys(table);
    const allowed = resolveProfile('default', abi).syscalls.filter((s) => s.disposition === 'host' || s.disposition.startsWith('emulate:'));
    const covered = allowed.filter((s) => exercised.includes(s.name)).length;
    // every syscall a zone may make (host or emulate) is exercised by some case
    expect(allowed.filter((s) => !exercised.includes(s.name)).map((s) => s.name)).toEqual([]);
    expect(covered).toBe(allowed.length);
    expect(result.notExercised[abi]).toEqual({ allowed: [], refused: expect.any(Number) });
    expect(result.unknownNames[abi] ?? []).toEqual([]);
  });
});

describe('the suite', () => {
  it('writes a result file lxzone syscalls can read', () => {
    const r = runs.get('x86_64')!;
    const file = join(dir, 'conformance.json');
    writeResults(file, r);
    const parsed = parseResults(JSON.parse(readFileSync(file, 'utf8')), file);
    expect(parsed.syscalls.x86_64!.openat).toEqual({ exercised: true, passed: true });
    expect(parsed.syscalls.x86_64!.uname!.exercised).toBe(true);
  });

  it('fails a case whose zone expectation does not hold', async () => {
    const wrong: Manifest = structuredClone(manifest);
    wrong.probes = { probe_emulated: { cases: { uname: { zone: [{ syscall: 'uname', nth: 1, data: { release: '9.9.9-not-the-zone', nodename: '${hostname}' } }] } } } };
    const r = await runSuite({ manifest: wrong, knownFailures: {}, abis: ['x86_64'], programs: false, noBuild: true, filter: /^probe_emulated\/uname$/ });
    expect(r.cases.map((c) => [c.id, c.status])).toEqual([['probe_emulated/uname', 'fail']]);
    expect(r.cases[0]!.diffs).toEqual([`line 1 uname: data.release: zone "${manifest.zone.kernelVersion}", expected "9.9.9-not-the-zone"`]);
    expect(r.syscalls.x86_64!.uname).toEqual({ exercised: true, passed: false });
  });

  it('fails a refused syscall whose errno is not the profile\'s', async () => {
    // permissive lets perf_event_open through: the zone then answers from the kernel, not with the default profile's EPERM.
    const disp = resolveProfile('permissive', 'x86_64').syscalls.find((s) => s.name === 'perf_event_open')!.disposition;
    expect(disp).toBe('host');
    const m: Manifest = structuredClone(manifest);
    m.probes = { probe_system: { cases: { kernel_facilities: 'same' } } };
    const filter = /^probe_system\/kernel_facilities$/;
    const ok = await runSuite({ manifest: m, knownFailures: {}, abis: ['x86_64'], programs: false, noBuild: true, profile: 'default', filter });
    expect(ok.cases[0]!.lines.find((l) => l.syscall === 'perf_event_open')!.status).toBe('refused');
    const perm = await runSuite({ manifest: m, knownFailures: {}, abis: ['x86_64'], programs: false, noBuild: true, profile: 'permissive', filter });
    expect(perm.cases[0]!.lines.find((l) => l.syscall === 'perf_event_open')!.status).not.toBe('refused');
  });
});

describe.each(['strict', 'permissive'])('the suite under the %s profile (x86_64)', (profile) => {
  it('passes, or fails only as known-failures lists for this profile', async () => {
    const r = await runSuite({ profile, abis: ['x86_64'], programs: false, noBuild: true });
    const unexpected = r.cases.filter((c) => c.status === 'fail' && c.knownFailure === undefined);
    expect(unexpected.map(describeCase).join('\n')).toBe('');
    // the profile decided: strict kills or refuses more, permissive lets more through to the kernel
    const refused = r.cases.flatMap((c) => c.lines).filter((l) => l.status === 'refused').length;
    if (profile === 'strict') expect(refused).toBeGreaterThan(20);
    else expect(refused).toBeLessThan(runs.get('x86_64') ? countRefused(runs.get('x86_64')!) : Infinity);
  }, 600_000);
});

function countRefused(r: ConformanceResultFile): number {
  return r.cases.flatMap((c) => c.lines).filter((l) => l.status === 'refused').length;
}
