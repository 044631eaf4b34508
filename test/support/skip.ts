// A suite that cannot run here says why, on stderr and in its name: a
// skipped test that stays silent reads as a pass.
import { describe, it } from 'vitest';

/** Why a suite that needs root cannot run, or undefined as root. */
export const rootOnly = (what = 'zones with cgroups, bridges and id-mapped roots'): string | undefined =>
  process.getuid?.() === 0 ? undefined : `needs root (${what})`;

/** describe(), or describe.skip() with `why` printed when it is set. */
export function describeUnless(why: string | undefined, name: string, fn: () => void): void {
  if (why === undefined) {
    describe(name, fn);
    return;
  }
  process.stderr.write(`lxzone tests: "${name}" skipped: ${why}\n`);
  describe.skip(`${name} (skipped: ${why})`, fn);
}

/** it(), or it.skip() with `why` printed when it is set. */
export function itUnless(why: string | undefined, name: string, fn: () => Promise<void> | void, timeout?: number): void {
  if (why === undefined) {
    it(name, fn, timeout);
    return;
  }
  process.stderr.write(`lxzone tests: "${name}" skipped: ${why}\n`);
  it.skip(`${name} (skipped: ${why})`, fn);
}
