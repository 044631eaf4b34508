// `lxzone update NAME [--memory SIZE] [--swap SIZE] [--cpus N] [--cpu-shares N] [--pids-limit N]`:
// change a zone's caps. A running zone gets them at once (its cgroup first: if
// the kernel refuses, e.g. a memory cap below current usage, nothing changes);
// the configuration keeps them for the next boot. "max" removes a cap.
import { Command } from 'commander';
import { LxzoneError } from '../errors.js';
import { validateLimits, type ZoneLimits } from '../zone/cgroups/limits.js';
import { parseSize } from '../zone/config/flags.js';
import type { ResourcesConfig } from '../zone/config/types.js';
import { acquireLock, ZoneStore } from '../zone/state/index.js';
import { runningZoneCgroup } from './stats.js';
import { daemonCall } from '../daemon/client.js';

interface UpdateFlags {
  memory?: string;
  swap?: string;
  cpus?: string;
  cpuShares?: string;
  pidsLimit?: string;
  json?: boolean;
}

const isMax = (v: string) => v === 'max' || v === 'unlimited' || v === '-1';

function usage(flag: string, v: string, rule: string): LxzoneError {
  return new LxzoneError(`option ${flag} ${JSON.stringify(v)}: ${rule}`, { code: 'EINVAL', exitCode: 2 });
}

/** Flags -> (new resources config, the limits to apply to a running zone). */
export function resourceChanges(flags: UpdateFlags, current: ResourcesConfig = {}): { resources: ResourcesConfig; limits: ZoneLimits } {
  const r: ResourcesConfig = { ...current };
  const l: ZoneLimits = {};
  if (flags.memory !== undefined) {
    l.memory = isMax(flags.memory) ? null : parseSize(flags.memory);
    if (l.memory === null) delete r.memoryBytes;
    else r.memoryBytes = l.memory;
  }
  if (flags.swap !== undefined) {
    l.swap = isMax(flags.swap) ? null : parseSize(flags.swap);
    if (l.swap === null) delete r.swapBytes;
    else r.swapBytes = l.swap;
  } else if (l.memory !== undefined && r.swapBytes !== undefined) {
    l.swap = r.swapBytes; // a new memory cap keeps the configured swap allowance
  }
  if (flags.cpus !== undefined) {
    if (isMax(flags.cpus)) {
      delete r.cpus;
      l.cpus = null;
    } else {
      const n = Number(flags.cpus);
      if (!Number.isFinite(n) || n <= 0) throw usage('--cpus', flags.cpus, 'must be a positive number of CPUs, or max');
      l.cpus = r.cpus = n;
    }
  }
  if (flags.cpuShares !== undefined) {
    const n = Number(flags.cpuShares);
    if (!Number.isInteger(n)) throw usage('--cpu-shares', flags.cpuShares, 'must be an integer 2..262144');
    l.cpuShares = r.cpuShares = n;
  }
  if (flags.pidsLimit !== undefined) {
    if (isMax(flags.pidsLimit)) {
      delete r.pidsMax;
      l.pids = null;
    } else {
      const n = Number(flags.pidsLimit);
      if (!Number.isInteger(n)) throw usage('--pids-limit', flags.pidsLimit, 'must be an integer, or max');
      l.pids = r.pidsMax = n;
    }
  }
  if (Object.keys(l).length === 0) throw new LxzoneError('nothing to update: give --memory, --swap, --cpus, --cpu-shares or --pids-limit', { exitCode: 2 });
  return { resources: r, limits: l };
}

export function register(program: Command): void {
  program
    .command('update')
    .description('change the resource caps of a zone (a running zone at once; kept for the next boot)')
    .argument('<name>', 'zone name')
    .option('-m, --memory <size>', 'memory cap, e.g. 512m, 2g (max: none)')
    .option('--swap <size>', 'swap allowed beyond the memory cap (default with a cap: 0)')
    .option('--cpus <n>', 'CPU cap in CPUs, e.g. 1.5 (max: none)')
    .option('--cpu-shares <n>', 'relative CPU weight 2..262144 (default 1024)')
    .option('--pids-limit <n>', 'maximum number of tasks (max: none)')
    .option('--json', 'print the resulting resources as JSON')
    .action(async (name: string, flags: UpdateFlags) => {
      const store = new ZoneStore();
      const lock = await acquireLock(store.paths(name).lockFile, name, { purpose: 'update' });
      try {
        const cfg = store.loadConfig(name);
        const { resources, limits } = resourceChanges(flags, cfg.resources);
        validateLimits(limits);
        const rec = store.readRuntime(name);
        if (rec) await (await runningZoneCgroup(name, rec)).update(limits);
        const saved = store.saveConfig({ ...cfg, resources });
        const out = { zone: name, running: rec !== undefined, resources: saved.resources ?? {} };
        process.stdout.write(flags.json ? `${JSON.stringify(out, null, 2)}\n` : `${name}: updated${rec ? ' (running zone and config)' : ' (config; applies at next boot)'}\n`);
      } finally {
        lock.release();
      }
      // A daemon serving the zone brings its sysinfo(2) view in line (after the lock: it takes it too).
      await daemonCall('refresh', { name }, { start: false }).catch(() => undefined);
    });
}
