// Issue 10 item 6: noisy neighbours at the supervisor. Zone B floods
// notified syscalls (uname and an unknown number, in a tight loop) while
// zone A's uname round trip is measured; the same measurement on a quiet
// supervisor alternates with it. Both zones are served by this process's
// one supervisor, as zones started by one launcher are.
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { startZone } from '../../src/zone/run.js';
import { fixture, inZone, progress, sleep, zoneLoop } from '../lib/exec.js';
import { checkAtMost, type SectionContext } from '../lib/section.js';
import { ratiosTo, row } from '../lib/stats.js';
import type { Row } from '../lib/types.js';

const NAME = "zone A's uname round trip";

/** The host's view of `pid`'s children, then theirs. */
function descendants(pid: number): number[] {
  let kids: number[] = [];
  try {
    kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
  return kids.flatMap((k) => [k, ...descendants(k)]);
}

/**
 * Waits until a process under the zone's init catches `signal` (its handler is
 * installed): a SIGTERM sent before that ends the flooder with 143 instead of
 * its report, which under load happened when only a fixed delay was waited.
 */
async function untilCatching(initPid: number, signal: 'SIGTERM'): Promise<void> {
  const bit = 1n << BigInt(constants.signals[signal] - 1);
  for (let i = 0; i < 200; i++) {
    for (const pid of descendants(initPid)) {
      let status = '';
      try {
        status = readFileSync(`/proc/${pid}/status`, 'utf8');
      } catch {
        continue; // gone between the listing and the read
      }
      const caught = /^SigCgt:\s*([0-9a-f]+)$/m.exec(status);
      if (caught && (BigInt(`0x${caught[1]}`) & bit) !== 0n) return;
    }
    await sleep(50);
  }
  throw new Error(`the flooding zone's process never installed its ${signal} handler`);
}

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
      await untilCatching(await flooder.initPid, 'SIGTERM');
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
