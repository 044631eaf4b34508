// The suite: every manifest case of every probe, for every ABI this host
// runs, natively and in a zone, compared; then the real programs. Progress
// goes to a callback (the CLI prints it on stderr); the result is the data
// the report, the result file and the tests use.
import { LxzoneError } from '../errors.js';
import { hostAbis } from '../tables/index.js';
import type { Abi } from '../tables/types.js';
import { compareCase, type CompareContext } from './compare.js';
import { runProbeNative, runProbeZone, type ZoneRunSettings } from './execute.js';
import { caseSpec, knownFailure, loadKnownFailures, loadManifest, type Manifest } from './manifest.js';
import { buildFixtures, listCases, probeBinaries } from './probes.js';
import { profileView, type ProfileView } from './profile.js';
import { compareProgram, missingRequirement, runProgramNative, runProgramZone } from './programs.js';
import { nativeAbi } from './paths.js';
import { aggregateSyscalls } from './results.js';
import type { CaseResult, ConformanceResultFile } from './types.js';

export interface RunSuiteOptions {
  profile?: string;
  /** Cases whose id ("probe_files/openat", "program/git") or "<abi>:<id>" matches run. */
  filter?: RegExp;
  /** Skip `make -C fixtures` (the binaries are already built). */
  noBuild?: boolean;
  /** Leave out the real programs / the probes. */
  programs?: boolean;
  probes?: boolean;
  abis?: Abi[];
  manifest?: Manifest;
  knownFailures?: Record<string, string>;
  onProgress?: (p: { done: number; total: number; result: CaseResult }) => void;
  onStart?: (p: { index: number; total: number; abi: Abi; id: string }) => void;
}

interface Planned {
  abi: Abi;
  id: string;
  run: () => Promise<Omit<CaseResult, 'id' | 'abi' | 'kind' | 'durationMs' | 'knownFailure' | 'fixed'>>;
  kind: 'probe' | 'program';
}

function matches(filter: RegExp | undefined, abi: Abi, id: string): boolean {
  return !filter || filter.test(id) || filter.test(`${abi}:${id}`);
}

export async function runSuite(opts: RunSuiteOptions = {}): Promise<ConformanceResultFile> {
  const profile = opts.profile ?? 'default';
  if (process.getuid?.() !== 0) {
    // every case runs in a zone, and zones need root today: say so once, not once per case
    throw new LxzoneError('lxzone conformance runs every case in a zone, and zones need root on this host', { code: 'EPERM', exitCode: 125 });
  }
  const manifest = opts.manifest ?? loadManifest();
  const known = opts.knownFailures ?? loadKnownFailures();
  if (!opts.noBuild && opts.probes !== false) buildFixtures();
  const zoneBase = { profile, hostname: manifest.zone.hostname, kernelVersion: manifest.zone.kernelVersion };
  const vars = { hostname: manifest.zone.hostname, kernelVersion: manifest.zone.kernelVersion };
  const abis = new Set<Abi>(opts.abis ?? hostAbis());
  const views = new Map<Abi, ProfileView>();
  const viewFor = (abi: Abi): ProfileView => {
    let v = views.get(abi);
    if (!v) views.set(abi, (v = profileView(profile, abi)));
    return v;
  };
  const plan: Planned[] = [];
  const results: CaseResult[] = [];

  if (opts.probes !== false) {
    const { binaries, missing } = probeBinaries(Object.keys(manifest.probes));
    // A missing ABI is reported when the filter could have chosen one of its
    // cases (the ones the manifest names: its binaries are what is missing).
    const named = Object.entries(manifest.probes).flatMap(([probe, spec]) => [probe, ...Object.keys(spec.cases ?? {}).map((c) => `${probe}/${c}`)]);
    for (const m of missing) {
      if (!abis.has(m.abi) || !named.some((id) => matches(opts.filter, m.abi, id))) continue;
      results.push({ id: `probes(${m.abi})`, abi: m.abi, kind: 'probe', status: 'skip', reason: m.reason, diffs: [], lines: [], durationMs: 0 });
    }
    for (const b of binaries) {
      if (!abis.has(b.abi)) continue;
      const probeSpec = manifest.probes[b.probe]!;
      const declared = listCases(b.bin);
      for (const name of declared) {
        const id = `${b.probe}/${name}`;
        if (!matches(opts.filter, b.abi, id)) continue;
        const spec = probeSpec.cases[name];
        if (spec === undefined) {
          plan.push({ abi: b.abi, id, kind: 'probe', run: async () => ({ status: 'fail', reason: 'the case is not in the manifest', diffs: ['the case is not in the manifest: say what must hold'], lines: [] }) });
          continue;
        }
        const cs = caseSpec(spec);
        const timeoutMs = cs.timeoutMs ?? manifest.timeoutMs;
        const zone: ZoneRunSettings = { ...zoneBase, network: probeSpec.zone?.network };
        if (cs.skip || (cs.abis && !cs.abis.includes(b.abi))) {
          const reason = cs.skip ?? `not for ${b.abi}`;
          plan.push({ abi: b.abi, id, kind: 'probe', run: async () => ({ status: 'skip', reason, diffs: [], lines: [] }) });
          continue;
        }
        plan.push({
          abi: b.abi, id, kind: 'probe',
          run: async () => {
            const native = cs.zoneOnly ? undefined : await runProbeNative(b.bin, name, timeoutMs);
            const inZone = await runProbeZone(b.bin, name, timeoutMs, zone);
            const ctx: CompareContext = { profile: viewFor(b.abi), vars };
            return compareCase(cs, native, inZone, ctx);
          },
        });
      }
      for (const name of Object.keys(probeSpec.cases)) {
        if (declared.includes(name)) continue;
        const id = `${b.probe}/${name}`;
        if (!matches(opts.filter, b.abi, id)) continue;
        plan.push({ abi: b.abi, id, kind: 'probe', run: async () => ({ status: 'fail', reason: `the manifest lists a case ${b.bin} does not have`, diffs: [`the manifest lists a case ${b.bin} does not have`], lines: [] }) });
      }
    }
  }

  if (opts.programs !== false) {
    const abi = nativeAbi();
    for (const [name, spec] of Object.entries(manifest.programs)) {
      const id = `program/${name}`;
      if (!abis.has(abi) || !matches(opts.filter, abi, id)) continue;
      const timeoutMs = spec.timeoutMs ?? manifest.timeoutMs;
      plan.push({
        abi, id, kind: 'program',
        run: async () => {
          const skip = spec.skip ?? missingRequirement(spec);
          if (skip) return { status: 'skip', reason: skip, diffs: [], lines: [] };
          const native = await runProgramNative(spec, timeoutMs);
          const inZone = await runProgramZone(spec, timeoutMs, { ...zoneBase, network: spec.zone?.network });
          const diffs = compareProgram(native, inZone);
          return diffs.length ? { status: 'fail', reason: diffs[0], diffs, lines: [] } : { status: 'pass', diffs, lines: [] };
        },
      });
    }
  }

  const total = plan.length;
  for (let i = 0; i < plan.length; i++) {
    const p = plan[i]!;
    opts.onStart?.({ index: i, total, abi: p.abi, id: p.id });
    const t0 = Date.now();
    let verdict;
    try {
      verdict = await p.run();
    } catch (err) {
      verdict = { status: 'fail' as const, reason: `runner error: ${(err as Error).message}`, diffs: [`runner error: ${(err as Error).message}`], lines: [] };
    }
    const result: CaseResult = { id: p.id, abi: p.abi, kind: p.kind, durationMs: Date.now() - t0, ...verdict };
    const kf = knownFailure(known, p.abi, p.id, profile);
    if (kf !== undefined) {
      if (result.status === 'fail') result.knownFailure = kf;
      else if (result.status === 'pass') result.fixed = true;
    }
    results.push(result);
    opts.onProgress?.({ done: i + 1, total, result });
  }

  const { syscalls, unknownNames } = aggregateSyscalls(results, (abi) => viewFor(abi));
  const notExercised: ConformanceResultFile['notExercised'] = {};
  const ranAbis = new Set(results.filter((c) => c.kind === 'probe' && c.lines.length).map((c) => c.abi));
  for (const abi of ranAbis) {
    const done = syscalls[abi] ?? {};
    const missing = viewFor(abi).names().filter((n) => !(n.name in done));
    notExercised[abi] = { allowed: missing.filter((n) => n.allowed).map((n) => n.name), refused: missing.filter((n) => !n.allowed).length };
  }
  return {
    version: 1,
    profile,
    generatedAt: new Date().toISOString(),
    syscalls,
    cases: results,
    knownFailures: known,
    unknownNames,
    notExercised,
  };
}
