// docker stats (GET /containers/ID/stats): the zone's cgroup usage
// (src/zone/lifecycle/caps.ts sampleZoneUsage, the one reader lxzone stats
// uses) in dockerd's shape. The client computes CPU % from the change of
// cpu_usage.total_usage against system_cpu_usage (the host's /proc/stat,
// in nanoseconds) between precpu_stats and cpu_stats, and memory % from
// usage against limit. stream=1 (default) sends one object a second until
// the client goes or the container stops; stream=0 sends one, sampled
// twice a second apart as dockerd does (one-shot=1: once, no CPU change).
import { readFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { sampleZoneUsage } from '../../zone/lifecycle/caps.js';
import type { DockerBackend } from './backend.js';
import { dockerName, type ContainerMeta } from './container-store.js';
import type { Route } from './router.js';

const INTERVAL_MS = 1000;
/** USER_HZ: /proc/stat counts in ticks of 1/100 s on every Linux architecture lxzone runs on. */
const NS_PER_TICK = 10_000_000;

function systemCpuNs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  return line.split(/\s+/).slice(1, 8).reduce((n, v) => n + (Number(v) || 0), 0) * NS_PER_TICK;
}

interface Sample {
  read: string;
  cpu: { total_usage: number; system_cpu_usage: number; online_cpus: number; throttling_data: { periods: number; throttled_periods: number; throttled_time: number } };
  memory: { usage: number; limit: number; failcnt: number; stats: Record<string, number> };
  pids: { current: number; limit?: number };
}

const ZERO = (): Sample => ({
  read: '0001-01-01T00:00:00Z',
  cpu: { total_usage: 0, system_cpu_usage: 0, online_cpus: 0, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } },
  memory: { usage: 0, limit: 0, failcnt: 0, stats: {} },
  pids: { current: 0 },
});

async function sample(b: DockerBackend, m: ContainerMeta): Promise<Sample> {
  const u = await sampleZoneUsage(b.opts.store, m.zone, 0);
  return {
    read: new Date().toISOString(),
    cpu: {
      total_usage: u.cpu.usageUsec * 1000,
      system_cpu_usage: systemCpuNs(),
      online_cpus: u.cpu.cpus !== null ? Math.max(1, Math.ceil(u.cpu.cpus)) : availableParallelism(),
      throttling_data: { periods: 0, throttled_periods: u.cpu.nrThrottled, throttled_time: u.cpu.throttledUsec * 1000 },
    },
    memory: { usage: u.memory.current, limit: u.memory.max ?? totalmem(), failcnt: u.memory.oomKills, stats: {} },
    pids: { current: u.pids.current, ...(u.pids.max !== null ? { limit: u.pids.max } : {}) },
  };
}

function statsJson(m: ContainerMeta, now: Sample, pre: Sample) {
  const cpu = (s: Sample) => ({
    cpu_usage: { total_usage: s.cpu.total_usage, usage_in_kernelmode: 0, usage_in_usermode: 0 },
    system_cpu_usage: s.cpu.system_cpu_usage,
    online_cpus: s.cpu.online_cpus,
    throttling_data: s.cpu.throttling_data,
  });
  return {
    read: now.read,
    preread: pre.read,
    pids_stats: now.pids,
    blkio_stats: {},
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpu(now),
    precpu_stats: cpu(pre),
    memory_stats: now.memory,
    name: `/${dockerName(m)}`,
    id: m.Id,
  };
}

export function statsRoutes(b: DockerBackend): Route[] {
  return [
    {
      method: 'GET',
      path: '/containers/:id/stats',
      doc: "stats: the zone's cgroup (CPU, memory against its cap, pids); stream (one a second) or not, one-shot; no network or block I/O counters",
      handler: async (ctx) => {
        const m = b.containers.get(ctx.params.id ?? '');
        const running = () => b.manager.runningNames().includes(m.zone);
        const res = ctx.res!;
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.flushHeaders();
        let closed = false;
        res.once('close', () => (closed = true));
        const send = (now: Sample, pre: Sample) => res.write(`${JSON.stringify(statsJson(m, now, pre))}\n`);
        // A container that is not running has no cgroup: zeros, as dockerd sends.
        const take = () => (running() ? sample(b, m).catch(() => ZERO()) : Promise.resolve(ZERO()));
        let pre = ctx.flag('one-shot') ? ZERO() : await take();
        if (!ctx.flag('stream', true)) {
          if (!ctx.flag('one-shot')) await sleep(INTERVAL_MS);
          send(await take(), pre);
          res.end();
          return undefined;
        }
        while (!closed) {
          const now = await take();
          send(now, pre);
          pre = now;
          if (!running()) break;
          await sleep(INTERVAL_MS);
        }
        res.end();
        return undefined;
      },
    },
  ];
}
