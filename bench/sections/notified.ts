// Issue 9 item 2 / issue 5's benchmark: the round trip of a notified
// (emulated) syscall, uname in a loop, next to native uname, the same loop
// under an in-process SECCOMP_RET_TRAP handler, and the floor the kernel
// sets: a same-CPU context-switch round trip (pipe and futex ping-pong).
import { cpus } from 'node:os';
import { canPin, pinnedTo } from '../lib/affinity.js';
import { fixture, nativeLoop, progress, zoneLoop } from '../lib/exec.js';
import { checkAtMost, type SectionContext } from '../lib/section.js';
import { ratio, ratiosTo, row } from '../lib/stats.js';
import type { Row } from '../lib/types.js';

const NAME = 'uname round trip';

export async function notified(ctx: SectionContext): Promise<void> {
  const { opts } = ctx;
  const cpu = cpus().length - 1;
  const slow = [String(opts.notifyCalls), String(opts.batches)];
  const fast = [String(opts.calls), String(opts.batches)];
  const s = { native: [] as number[], trap: [] as number[], zone: [] as number[], own: [] as number[], enosys: [] as number[], nativeEnosys: [] as number[], pinned: [] as number[], pipe: [] as number[], futex: [] as number[] };
  const pin = canPin();
  if (!pin) ctx.skip('taskset (util-linux) not found: no same-CPU lxzone variant');
  for (let r = 0; r < opts.runs; r++) {
    progress(`notified: run ${r + 1}/${opts.runs}`);
    s.native.push(...nativeLoop([fixture('uname'), ...fast]));
    s.nativeEnosys.push(...nativeLoop([fixture('uname'), ...fast, 'enosys']));
    s.trap.push(...nativeLoop([fixture('trap_uname'), ...fast]));
    s.zone.push(...(await zoneLoop([fixture('uname'), ...slow])).ns);
    s.own.push(...(await zoneLoop([fixture('uname'), ...slow], { kernelVersion: '5.15.0-lxzone' })).ns);
    s.enosys.push(...(await zoneLoop([fixture('uname'), ...slow, 'enosys'])).ns);
    if (pin) s.pinned.push(...(await pinnedTo(cpu, () => zoneLoop([fixture('uname'), ...slow]))).ns);
    s.pipe.push(...nativeLoop([fixture('ctxswitch'), ...slow, 'pipe', String(cpu)]));
    s.futex.push(...nativeLoop([fixture('ctxswitch'), ...slow, 'futex', String(cpu)]));
  }
  const rows: Row[] = [
    row(NAME, 'native', 'ns/call', s.native, 'plain uname(2)'),
    row(NAME, 'SECCOMP_RET_TRAP', 'ns/call', s.trap, 'in-process SIGSYS handler answers'),
    row(NAME, 'lxzone', 'ns/call', s.zone, "notified; the zone reports the host's release, so the supervisor answers CONTINUE and the kernel the call; CPUs as the scheduler places them"),
    row(NAME, 'lxzone, --kernel-version', 'ns/call', s.own, "notified; the supervisor answers (the zone's names read in its UTS namespace, the answer written with process_vm_writev)"),
  ];
  if (pin) rows.push(row(NAME, 'lxzone, one CPU', 'ns/call', s.pinned, `zone and supervisor pinned to CPU ${cpu}`));
  rows.push(
    row('unknown syscall', 'native', 'ns/call', s.nativeEnosys, "the kernel's ENOSYS"),
    row('unknown syscall', 'lxzone', 'ns/call', s.enosys, 'notified, the supervisor answers ENOSYS: its least handler work'),
    row('context switch round trip', 'pipe, one CPU', 'ns/round trip', s.pipe, `two processes on CPU ${cpu}, a byte each way`),
    row('context switch round trip', 'futex, one CPU', 'ns/round trip', s.futex, `two processes on CPU ${cpu}, FUTEX_WAKE/WAIT each way`),
  );
  // Each row against native of the same call; the context switches are references, not ratios.
  ratiosTo(rows, (r) => rows.find((b) => b.name === r.name && b.variant === 'native'));
  ctx.rows.push(...rows);
  const median = (name: string, variant: string) => rows.find((r) => r.name === name && r.variant === variant)?.median ?? null;
  const pipe = median('context switch round trip', 'pipe, one CPU');
  const vsPipe = (v: number | null) => ratio(v, pipe);
  ctx.checks.push(checkAtMost('lxzone notified uname round trip within 1.5x of the same-CPU context switch (pipe)', vsPipe(median(NAME, 'lxzone')), 1.5, 'x ctx switch'));
  if (pin) ctx.checks.push(checkAtMost('same, zone and supervisor on one CPU', vsPipe(median(NAME, 'lxzone, one CPU')), 1.2, 'x ctx switch'));
  ctx.checks.push(checkAtMost('unknown syscall (least handler work) within 1.2x of it', vsPipe(median('unknown syscall', 'lxzone')), 1.2, 'x ctx switch'));
}
