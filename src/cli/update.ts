// `lxzone update NAME [--memory SIZE] [--memory-swap SIZE] [--cpus N] [--cpu-shares N] [--pids-limit N]`:
// change a zone's caps. A running zone gets them at once (its cgroup first: if
// the kernel refuses, e.g. a memory cap below current usage, nothing changes);
// the configuration keeps them for the next boot. "max" removes a cap.
import { Command } from 'commander';
import { LxzoneError } from '../errors.js';
import { validateLimits, type ZoneLimits } from '../zone/cgroups/limits.js';
import type { ResourcesConfig } from '../zone/config/types.js';
import { acquireLock, ZoneStore } from '../zone/state/index.js';
import { runningZoneCgroup } from './stats.js';
import { daemonCall } from '../daemon/client.js';
import { addResourceOptions, parseResourceFlags, requestedLimits, type ResourceFlags } from './resource-options.js';

interface UpdateFlags extends ResourceFlags {
  json?: boolean;
}

/** Flags -> (new resources config, the limits to apply to a running zone). */
export function resourceChanges(flags: UpdateFlags, current: ResourcesConfig = {}): { resources: ResourcesConfig; limits: ZoneLimits } {
  const request = parseResourceFlags(flags, { max: true });
  const limits = requestedLimits(request);
  if (Object.keys(limits).length === 0) {
    throw new LxzoneError('nothing to update: give --memory, --memory-swap, --cpus, --cpu-shares or --pids-limit', { exitCode: 2 });
  }
  // A new memory cap keeps the configured swap allowance.
  if (limits.memory !== undefined && limits.swap === undefined && current.swapBytes !== undefined) limits.swap = current.swapBytes;
  const resources: ResourcesConfig = { ...current };
  for (const [k, v] of Object.entries(request) as [keyof ResourcesConfig, number | null][]) {
    if (v === null) delete resources[k];
    else resources[k] = v;
  }
  return { resources, limits };
}

export function register(program: Command): void {
  const cmd = program
    .command('update')
    .description('change the resource caps of a zone (a running zone at once; kept for the next boot)')
    .argument('<name>', 'zone name')
    .option('--json', 'print the resulting resources as JSON');
  addResourceOptions(cmd, { max: true }).action(async (name: string, flags: UpdateFlags) => {
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
