// Why a test of the i386 entry cannot run on this host: one probe, the
// conformance suite's (src/conformance/i386-runs.ts).
import { existsSync } from 'node:fs';
import { i386Unavailable } from '../../src/conformance/i386-runs.js';
import { probeDirs } from '../../src/conformance/paths.js';

export { i386Unavailable };

/** The built probe directories this kernel can run, saying on stderr why an ABI is left out. */
export function runnableProbeDirs(): ReturnType<typeof probeDirs> {
  return probeDirs().filter(({ abi, dir }) => {
    if (!existsSync(dir)) return false;
    const why = abi === 'i386' ? i386Unavailable() : undefined;
    if (why) process.stderr.write(`lxzone tests: the ${abi} probes are skipped: ${why}\n`);
    return !why;
  });
}