// Real programs from the host's root (read-only) in a zone, compared with a
// native run of the same script (fixtures/programs/): coreutils, busybox,
// python3, sqlite3, git, gcc, node. A program missing on this host is a
// skip with the reason (CI's .ci/run installs them all).
import { describe, expect, it } from 'vitest';
import { describeCase, knownFailure, loadKnownFailures, loadManifest, runSuite } from '../src/conformance/index.js';
import { missingRequirement } from '../src/conformance/programs.js';

const manifest = loadManifest();
const known = loadKnownFailures();

describe('real programs natively and in a zone', () => {
  for (const [name, spec] of Object.entries(manifest.programs)) {
    const missing = missingRequirement(spec);
    it.skipIf(missing !== undefined)(`${name}${missing ? ` (${missing})` : ''}`, async () => {
      const r = await runSuite({ filter: new RegExp(`^program/${name}$`), probes: false, noBuild: true });
      expect(r.cases).toHaveLength(1);
      const c = r.cases[0]!;
      if (c.status === 'fail' && knownFailure(known, c.abi, c.id) !== undefined) return;
      expect(c.status, describeCase(c)).toBe('pass');
    }, 120_000);
  }

  it('notices when a program behaves differently in the zone', async () => {
    // hostname is the zone's, not the host's: the same script gives different output.
    const { writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { PROGRAMS_DIR } = await import('../src/conformance/paths.js');
    const script = join(PROGRAMS_DIR, '.differs.test.sh');
    writeFileSync(script, 'cat /proc/sys/kernel/hostname\n');
    try {
      const m = structuredClone(manifest);
      m.programs = { differs: { script: '.differs.test.sh', requires: ['cat'] } };
      const r = await runSuite({ manifest: m, knownFailures: {}, probes: false, noBuild: true });
      expect(r.cases[0]!.status).toBe('fail');
      expect(r.cases[0]!.diffs[0]).toMatch(new RegExp(`stdout line 1: native ".*", zone "${manifest.zone.hostname}"`));
    } finally {
      rmSync(script, { force: true });
    }
  }, 60_000);
});
