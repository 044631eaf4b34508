// Issue 10 item 6: noisy neighbours at the supervisor. Zone B floods
// notified syscalls (uname and an unknown number, in a tight loop) while
// zone A's uname round trip is measured; the same measurement on a quiet
// supervisor alternates with it. Both zones are served by this process's
// one supervisor, as zones started by one launcher are.
import { startZone } from '../../src/zone/run.js';
import { fixture, inZone, progress, sleep, zoneLoop } from '../lib/exec.js';
import { checkAtMost, type SectionContext } from '../lib/section.js';
import { ratiosTo, row } from '../lib/stats.js';
import type { Row } from '../lib/types.js';

const NAME = "zone A's uname round trip";

export async function noisy(ctx: SectionContext): Promise<void> {
  const { opts } = ctx;
  const argv = [fixture('uname'), String(opts.notifyCalls), String(opts.batches)];
  const quiet: number[] = [];
  const loud: number[] = [];
  const floodRate: number[] = [];
  const floodNotified: number[] = [];
  for (let r = 0; r < opts.noisyRounds; r++) {
    progress(`noisy: round ${r + 1}/${opts.noisyRounds}: quiet`);
    quiet.push(...(await zoneLoop(argv)).ns);
    progress(`noisy: round ${r + 1}/${opts.noisyRounds}: zone B flooding`);
    const flooder = startZone(inZone([fixture('flood'), '600'], { stdio: 'pipe' }));
    try {
      await flooder.initPid;
      await sleep(300);
      loud.push(...(await zoneLoop(argv)).ns);
    } finally {
      flooder.kill('SIGTERM');
    }
    const res = await flooder.wait();
    const m = /^calls_per_second (\d+)/m.exec(res.stdout?.toString() ?? '');
    if (res.exitCode !== 0 || !m) throw new Error(`the flooding zone ended with ${res.exitCode}: ${res.stderr?.toString().trim()}`);
    floodRate.push(Number(m[1]));
    floodNotified.push(res.stats.notified.reduce((s, x) => s + x.count, 0) + res.stats.unsupported.reduce((s, x) => s + x.count, 0));
  }
  const rows: Row[] = [
    row(NAME, 'quiet supervisor', 'ns/call', quiet),
    row(NAME, 'zone B flooding', 'ns/call', loud, 'B: uname + an unknown syscall number in a tight loop'),
    row("zone B's flood rate", 'zone B flooding', 'calls/s', floodRate, 'notified calls B got answered while A measured'),
  ];
  ratiosTo(rows.slice(0, 2), () => rows[0]);
  ctx.rows.push(...rows);
  ctx.details.floodCallsCounted = floodNotified;
  ctx.checks.push(checkAtMost("zone A's latency with B flooding under 2x quiet", rows[1]!.ratio ?? null, 2, 'x quiet'));
}
