// Issue 9 item 1: syscalls the filter lets through (disposition host), in
// ns per call, natively and in a zone. Native and zone runs alternate so a
// busy moment on the shared machine hits both alike.
import { fixture, nativeLoop, progress, zoneLoop } from '../lib/exec.js';
import { checkAtMost, type SectionContext } from '../lib/section.js';
import { ratiosTo, row } from '../lib/stats.js';

const LOOPS = [
  { name: 'getppid', bin: 'getppid', scale: 1 },
  // A path walk per call: ~10x the cost of getppid, so fewer calls.
  { name: 'open+close', bin: 'openclose', scale: 0.2 },
] as const;

export async function passthrough(ctx: SectionContext): Promise<void> {
  const { opts } = ctx;
  for (const loop of LOOPS) {
    const calls = String(Math.max(1, Math.round(opts.calls * loop.scale)));
    const argv = [fixture(loop.bin), calls, String(opts.batches)];
    const native: number[] = [];
    const zone: number[] = [];
    for (let r = 0; r < opts.runs; r++) {
      progress(`passthrough: ${loop.name} run ${r + 1}/${opts.runs}`);
      native.push(...nativeLoop(argv));
      zone.push(...(await zoneLoop(argv)).ns);
    }
    const rows = [row(loop.name, 'native', 'ns/call', native), row(loop.name, 'lxzone', 'ns/call', zone)];
    ratiosTo(rows, () => rows[0]);
    ctx.rows.push(...rows);
    ctx.checks.push(checkAtMost(`${loop.name}: lxzone within 2% of native`, rows[1]!.ratio ?? null, 1.02, 'x native'));
  }
}
