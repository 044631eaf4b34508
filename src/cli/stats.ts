// `lxzone stats NAME [--json]`: live usage of a running zone against its caps
// (memory, swap, CPU over a short sample, tasks) and its addresses. Reads the
// zone's cgroup directly, so it works whether or not a daemon answers.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command, Option } from 'commander';
import { LxzoneError } from '../errors.js';
import { openZoneCgroup, type ZoneCgroup, type ZoneUsage } from '../zone/cgroups/index.js';
import { Ipam } from '../zone/network/index.js';
import { formatBytes } from '../zone/lifecycle/format.js';
import { ZoneStore, type RuntimeRecord } from '../zone/state/index.js';

/** The zone's cgroup: the path recorded at boot, else the default place, else the cgroup of its init. */
export async function runningZoneCgroup(name: string, rec: RuntimeRecord): Promise<ZoneCgroup> {
  const recorded = typeof rec.cgroupPath === 'string' ? rec.cgroupPath : undefined;
  const cg =
    (recorded !== undefined ? await openZoneCgroup(name, { path: recorded }) : undefined) ??
    (await openZoneCgroup(name)) ??
    (await openZoneCgroup(name, { pid: rec.pid }).catch(() => undefined));
  if (!cg || (recorded === undefined && !cg.path.endsWith(`/${name}`))) {
    throw new LxzoneError(`zone ${name} is running but has no cgroup (booted without resource control?)`, { code: 'ENOENT' });
  }
  return cg;
}

export interface StatsResult {
  zone: string;
  memory: ZoneUsage['memory'];
  cpu: ZoneUsage['cpu'] & { percent: number | null };
  pids: ZoneUsage['pids'];
  ipv4: string | null;
  ipv6: string | null;
}

export async function zoneStats(store: ZoneStore, name: string, intervalMs: number): Promise<StatsResult> {
  const rec = store.readRuntime(name);
  if (!rec) {
    if (!store.exists(name)) throw new LxzoneError(`zone ${name} does not exist`, { code: 'ENOENT' });
    throw new LxzoneError(`zone ${name} is not running`, { code: 'ESRCH' });
  }
  const cg = await runningZoneCgroup(name, rec);
  const first = await cg.usage();
  let percent: number | null = null;
  let u = first;
  if (intervalMs > 0) {
    const t0 = process.hrtime.bigint();
    await sleep(intervalMs);
    u = await cg.usage();
    const wallUsec = Number(process.hrtime.bigint() - t0) / 1000;
    percent = Math.round(((u.cpu.usageUsec - first.cpu.usageUsec) / wallUsec) * 1000) / 10;
  }
  const lease = await new Ipam({ stateDir: join(store.stateDir, 'network') }).get(name).catch(() => undefined);
  return { zone: name, memory: u.memory, cpu: { ...u.cpu, percent }, pids: u.pids, ipv4: lease?.ipv4 ?? null, ipv6: lease?.ipv6 ?? null };
}

/** Sizes as `lxzone stats` prints them: "64.0 MiB", or "unlimited". */
const size = (n: number | null): string => formatBytes(n, { none: 'unlimited', space: true });

function text(s: StatsResult): string {
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
      const s = await zoneStats(new ZoneStore(), name, interval);
      process.stdout.write(flags.json ? `${JSON.stringify(s, null, 2)}\n` : text(s));
    });
}
