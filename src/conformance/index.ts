// The conformance suite's API: run it, report it, write its result file.
export { runSuite, type RunSuiteOptions } from './runner.js';
export { formatReport, summarize, hasUnexpectedFailures, describeCase, caseLine, type Summary } from './report.js';
export { writeResults, aggregateSyscalls, DEFAULT_RESULTS } from './results.js';
export { compareCase, checkValue, type CompareContext, type CaseVerdict } from './compare.js';
export { loadManifest, loadKnownFailures, parseManifest, knownFailure, caseSpec as caseSpecOf, type Manifest, type CaseSpec, type LineCheck, type ValueSpec } from './manifest.js';
export { profileView, viewOf, type ProfileView, type Expectation } from './profile.js';
export { parseProbeOutput, runProbeNative, runProbeZone, nativeScratchBase } from './execute.js';
export { buildFixtures, listCases, probeBinaries } from './probes.js';
export type * from './types.js';
