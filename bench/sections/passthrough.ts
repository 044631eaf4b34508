// Issue 9 item 1: syscalls the filter lets through (disposition host), in
// ns per call, natively and in a zone. Two more variants split the zone's
// cost: the same loop natively under a one-instruction ALLOW filter (what
// the kernel charges for seccomp being on at all) and under lxzone's own
// compiled filter without the zone's namespaces (what our filter adds, which
// the seccomp action cache should make nothing). Variants alternate within a
// run, so a busy moment on the shared machine hits them alike.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compilePolicy } from '../../src/policy/compile.js';
import { hostAbis } from '../../src/tables/index.js';
import { fixture, nativeLoop, progress, zoneLoop } from '../lib/exec.js';
import { checkAtMost, type SectionContext } from '../lib/section.js';
import { ratiosTo, row } from '../lib/stats.js';
import type { Row } from '../lib/types.js';

const LOOPS = [
  { name: 'getppid', bin: 'getppid', scale: 1, args: [] as string[] },
  // A path walk per call: several times the cost of getppid, so fewer calls.
  { name: 'open+close', bin: 'openclose', scale: 0.2, args: ['/etc/passwd'] },
];

export async function passthrough(ctx: SectionContext): Promise<void> {
  const { opts } = ctx;
  const dir = mkdtempSync(join(tmpdir(), 'lxzone-bench-filter-'));
  try {
    const filter = join(dir, 'default.bpf');
    writeFileSync(filter, compilePolicy({ profile: 'default', abis: hostAbis() }).bpf);
    for (const loop of LOOPS) {
      const calls = String(Math.max(1, Math.round(opts.calls * loop.scale)));
      const argv = (f: string) => [fixture(loop.bin), calls, String(opts.batches), ...loop.args, f];
      const s = { native: [] as number[], allow: [] as number[], ours: [] as number[], zone: [] as number[] };
      for (let r = 0; r < opts.runs; r++) {
        progress(`passthrough: ${loop.name} run ${r + 1}/${opts.runs}`);
        s.native.push(...nativeLoop(argv('-')));
        s.allow.push(...nativeLoop(argv('allow')));
        s.ours.push(...nativeLoop(argv(filter)));
        s.zone.push(...(await zoneLoop(argv('-'))).ns);
      }
      const rows: Row[] = [
        row(loop.name, 'native', 'ns/call', s.native),
        row(loop.name, 'native + ALLOW-all filter', 'ns/call', s.allow, "the kernel's cost of any seccomp filter"),
        row(loop.name, 'native + lxzone filter', 'ns/call', s.ours, "the default profile's compiled filter, no namespaces"),
        row(loop.name, 'lxzone', 'ns/call', s.zone, 'in a zone (host root, default profile)'),
      ];
      ratiosTo(rows, () => rows[0]);
      ctx.rows.push(...rows);
      ctx.checks.push(checkAtMost(`${loop.name}: lxzone within 2% of native`, rows[3]!.ratio ?? null, 1.02, 'x native'));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
