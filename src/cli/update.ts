// `lxzone update NAME [--memory SIZE] [--memory-swap SIZE] [--cpus N] [--cpu-shares N] [--pids-limit N] [--disk SIZE]`:
// change a zone's caps. A running zone gets them at once (its cgroup first: if
// the kernel refuses, e.g. a memory cap below current usage, nothing changes);
// the configuration keeps them for the next boot. "max" removes a cap. An
// image zone's disk grows at once, online if mounted (never shrinks); the
// /tmp and /run sizes follow at the next boot.
import { Command } from 'commander';
import { LxzoneError } from '../errors.js';
import { limitsOf, validateLimits, type ZoneLimits } from '../zone/cgroups/limits.js';
import type { ResourcesConfig } from '../zone/config/types.js';
import { acquireLock, ZoneStore } from '../zone/state/index.js';
import { runningZoneCgroup } from './stats.js';
import { daemonCall } from '../daemon/client.js';
import { addResourceOptions, parseResourceFlags, type ResourceFlags } from './resource-options.js';
import { growZoneDisk } from '../zone/lifecycle/zone-disk.js';

interface UpdateFlags extends ResourceFlags {
  json?: boolean;
}

/** Flags -> (new resources config, the limits to apply to a running zone). */
export function resourceChanges(flags: UpdateFlags, current: ResourcesConfig = {}): { resources: ResourcesConfig; limits: ZoneLimits } {
  const request = parseResourceFlags(flags, { max: true });
  const limits = limitsOf(request);
  if (Object.keys(request).length === 0) {
    throw new LxzoneError('nothing to update: give --memory, --memory-swap, --cpus, --cpu-shares, --pids-limit or --disk', { exitCode: 2 });
  }
  if (request.diskBytes === null) {
    throw new LxzoneError(`option --disk ${JSON.stringify(flags.disk)}: a zone's disk can grow, not be removed`, { code: 'EINVAL', exitCode: 2 });
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
  addResourceOptions(cmd, { max: true, disk: true }).action(async (name: string, flags: UpdateFlags) => {
      const store = new ZoneStore();
      store.loadConfig(name); // a zone that does not exist says so, before any lock is taken
      const lock = await acquireLock(store.paths(name).lockFile, name, { purpose: 'update' });
      try {
        const cfg = store.loadConfig(name);
        const { resources, limits } = resourceChanges(flags, cfg.resources);
        validateLimits(limits);
        // The disk first: a smaller size is refused there, before anything changed.
        const later = flags.disk !== undefined ? await growZoneDisk(store, { ...cfg, resources }) : undefined;
        if (later) process.stderr.write(`lxzone: ${later}\n`);
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
