// The probes on their own, natively (no zone): each case prints well-formed
// lines for its own case name, names only syscalls the ABI's table has,
// exits 0, and prints the same thing twice — so "same as native" in a zone
// means something. Zone-only cases must do nothing natively.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  buildFixtures, caseSpecOf, compareCase, loadManifest, runProbeNative, type CaseSpec, type ProfileView,
} from '../src/conformance/index.js';
import { syscallByName } from '../src/tables/index.js';
import { runnableProbeDirs } from './support/i386.js';

buildFixtures();
const manifest = loadManifest();
const abis = runnableProbeDirs();

/** Native vs native: no profile refusals; fields the manifest checks in zones vary on the host too. */
const noProfile: ProfileView = { profile: 'none', abi: 'x86_64', expectation: () => undefined, decide: () => undefined, has: () => true, names: () => [] };
function nativeSpec(spec: CaseSpec): CaseSpec {
  const ignore = [...(spec.ignore ?? [])];
  for (const c of spec.zone ?? []) {
    const who = c.nth ? `${c.syscall}#${c.nth}` : c.syscall;
    if (c.ret !== undefined) ignore.push(`${who}.ret`);
    if (c.errno !== undefined) ignore.push(`${who}.errno`);
    for (const k of Object.keys(c.data ?? {})) ignore.push(`${who}.data.${k}`);
  }
  return { ignore };
}

beforeAll(() => {
  expect(abis.map((a) => a.abi)).toContain('x86_64');
});

describe.each(abis)('probes natively ($abi)', ({ abi, dir }) => {
  for (const [probe, pspec] of Object.entries(manifest.probes)) {
    it(`${probe}: every case is well-formed and deterministic`, async () => {
      const bin = join(dir, probe);
      for (const [name, raw] of Object.entries(pspec.cases)) {
        const spec = caseSpecOf(raw);
        if (spec.skip || (spec.abis && !spec.abis.includes(abi))) continue;
        const a = await runProbeNative(bin, name, manifest.timeoutMs);
        expect(a.invalid, `${probe}/${name}`).toEqual([]);
        expect(a.exitCode, `${probe}/${name}: ${a.stderr}`).toBe(0);
        expect(a.lines.length, `${probe}/${name} prints nothing`).toBeGreaterThan(0);
        for (const l of a.lines) {
          expect(l.case).toBe(name);
          if (!l.syscall.startsWith('(')) expect(syscallByName(abi, l.syscall), `${probe}/${name}: ${l.syscall} is not an ${abi} syscall`).toBeDefined();
        }
        if (spec.zoneOnly) {
          // the guard: natively a zone-only case only says it skipped
          expect(a.lines.map((l) => [l.syscall, l.data.skipped])).toEqual([['(check)', 'host state: zone only']]);
          continue;
        }
        const b = await runProbeNative(bin, name, manifest.timeoutMs);
        const v = compareCase(nativeSpec(spec), a, b, { profile: noProfile, vars: {} });
        expect(v.diffs, `${probe}/${name} differs between two native runs`).toEqual([]);
      }
    }, 120_000);
  }
});
