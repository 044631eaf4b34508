// A suite that cannot run here says why, on stderr and in its name: a
// skipped test that stays silent reads as a pass.
import { describe, expect, it } from 'vitest';

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

/**
 * Under CI nothing the build makes may be missing: .ci/run builds everything
 * and exports LXZONE_CI=1, and there a suite of a build output that is not
 * there fails.
 */
export const underCi = (): boolean => process.env.LXZONE_CI === '1';

/**
 * describe() for a suite of what `npm run build` makes: `missing` (why it
 * cannot run, e.g. "dist/x is missing: npm run build") skips it, said as
 * describeUnless says it, for a developer without a build, and fails it
 * under CI.
 */
export function describeBuilt(missing: string | undefined, name: string, fn: () => void): void {
  if (missing !== undefined && underCi()) {
    describe(name, () => {
      it('finds its build output (LXZONE_CI=1: a missing one is a failure, not a skip)', () => {
        expect.fail(missing);
      });
    });
    return;
  }
  describeUnless(missing, name, fn);
}
