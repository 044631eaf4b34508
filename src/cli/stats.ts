// `lxzone stats NAME [--json]`: live usage of a running zone against its caps
// (memory, swap, CPU over a short sample, tasks) and its addresses. Reads the
// zone's cgroup directly (src/zone/lifecycle/caps.ts), so it works whether
// or not a daemon answers.
import { Command, Option } from 'commander';
import { LxzoneError } from '../errors.js';
import { sampleZoneUsage, type UsageSample } from '../zone/lifecycle/caps.js';
import { formatBytes } from '../zone/lifecycle/format.js';
import { ZoneStore } from '../zone/state/index.js';

/** Sizes as `lxzone stats` prints them: "64.0 MiB", or "unlimited". */
const size = (n: number | null): string => formatBytes(n, { none: 'unlimited', space: true });

function text(s: UsageSample): string {
  const pct = (a: number, b: number | null) => (b ? ` (${((a / b) * 100).toFixed(1)}%)` : '');
  const lines = [
    `ZONE    ${s.zone}`,
    `MEMORY  ${size(s.memory.current)} / ${size(s.memory.max)}${pct(s.memory.current, s.memory.max)}, oom kills ${s.memory.oomKills}`,
    `SWAP    ${s.memory.swapCurrent === null ? '-' : size(s.memory.swapCurrent)} / ${size(s.memory.swapMax)}`,
    `CPU     ${s.cpu.percent === null ? '-' : `${s.cpu.percent}%`} of ${s.cpu.cpus === null ? 'all CPUs' : `${s.cpu.cpus} CPUs`}, shares ${s.cpu.shares}, throttled ${s.cpu.nrThrottled}x`,
    `PIDS    ${s.pids.current} / ${s.pids.max ?? 'unlimited'}`,
  ];
  if (s.ipv4) lines.push(`ADDRESS ${s.ipv4} ${s.ipv6 ?? ''}`.trimEnd());
  return `${lines.join('\n')}\n`;
}

export function register(program: Command): void {
  program
    .command('stats')
    .description("live usage of a running zone against its caps (memory, swap, CPU, tasks) and its address")
    .argument('<name>', 'zone name')
    .addOption(new Option('--interval <ms>', 'CPU sampling interval in ms (0: no CPU percentage)').default('1000'))
    .option('--json', 'machine-readable output')
    .action(async (name: string, flags: { interval: string; json?: boolean }) => {
      const interval = Number(flags.interval);
      if (!Number.isInteger(interval) || interval < 0 || interval > 60_000) {
        throw new LxzoneError(`option --interval ${JSON.stringify(flags.interval)}: must be 0..60000 ms`, { exitCode: 2 });
      }
      const s = await sampleZoneUsage(new ZoneStore(), name, interval);
      process.stdout.write(flags.json ? `${JSON.stringify(s, null, 2)}\n` : text(s));
    });
}
