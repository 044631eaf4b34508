// The resource flags of `create`, `run` and `update`: one spelling (docker's:
// --memory, --memory-swap, --cpus, --cpu-shares, --pids-limit) and one
// parser, so a cap means the same on every verb. Values are strings from the
// command line, checked here with errors that name the flag.
import { Command, Option } from 'commander';
import { EXIT, LxzoneError } from '../errors.js';
import { limitsOf, validateLimits, type ResourceRequest, type ZoneLimits } from '../zone/cgroups/limits.js';
import { parseSize } from '../zone/config/flags.js';
import type { ResourcesConfig } from '../zone/config/types.js';

export interface ResourceFlags {
  memory?: string;
  memorySwap?: string;
  cpus?: string;
  cpuShares?: string;
  pidsLimit?: string;
  disk?: string;
}

/** What the flags ask for, per field of ResourcesConfig; null: "max", remove the cap (update only). */
export type { ResourceRequest };

export interface ResourceOptionsShape {
  /** `--disk`: the zone's writable /tmp and /run (stored zones only). */
  disk?: boolean;
  /** Values may be "max" to remove a cap (update). */
  max?: boolean;
}

/** Adds the resource options to `cmd`. The older spellings (--swap, --pids-max) stay accepted, hidden. */
export function addResourceOptions(cmd: Command, shape: ResourceOptionsShape = {}): Command {
  const or = shape.max ? ', or max for none' : '';
  cmd
    .option('-m, --memory <size>', `memory cap, e.g. 256m, 2g${or}`)
    .option('--memory-swap <size>', `swap the zone may use beyond --memory (default 0 with a memory cap)${or}`)
    .addOption(new Option('--swap <size>').hideHelp())
    .option('--cpus <n>', `CPU cap in CPUs, e.g. 1.5${or}`)
    .option('--cpu-shares <n>', 'relative CPU weight, 2..262144 (default 1024)')
    .option('--pids-limit <n>', `maximum number of processes and threads${or}`)
    .addOption(new Option('--pids-max <n>').hideHelp());
  if (shape.disk) cmd.option('--disk <size>', "disk cap: an image zone's root is on a disk of this size; also the size of /tmp and /run");
  return cmd;
}

function usage(flag: string, v: string, rule: string): LxzoneError {
  return new LxzoneError(`option ${flag} ${JSON.stringify(v)}: ${rule}`, { code: 'EINVAL', exitCode: EXIT.usage });
}

const isMax = (v: string): boolean => v === 'max' || v === 'unlimited' || v === '-1';

/**
 * The flags given, parsed. Raw flag objects from commander may carry the
 * hidden old spellings (swap, pidsMax); they count as the new ones.
 */
export function parseResourceFlags(raw: ResourceFlags & { swap?: string; pidsMax?: string }, shape: ResourceOptionsShape = {}): ResourceRequest {
  const f: ResourceFlags = { ...raw, memorySwap: raw.memorySwap ?? raw.swap, pidsLimit: raw.pidsLimit ?? raw.pidsMax };
  const out: ResourceRequest = {};
  const maxOr = (flag: string, v: string, parse: (v: string) => number): number | null => {
    if (isMax(v)) {
      if (!shape.max) throw usage(flag, v, 'a new zone has no cap to remove: leave the option out');
      return null;
    }
    return parse(v);
  };
  const size = (flag: string) => (v: string) => {
    try {
      return parseSize(v);
    } catch {
      throw usage(flag, v, 'must be a size: a number with an optional unit k, m, g or t');
    }
  };
  const int = (flag: string, rule: string) => (v: string) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isSafeInteger(n)) throw usage(flag, v, rule);
    return n;
  };
  if (f.memory !== undefined) out.memoryBytes = maxOr('--memory', f.memory, size('--memory'));
  if (f.memorySwap !== undefined) out.swapBytes = maxOr('--memory-swap', f.memorySwap, size('--memory-swap'));
  if (f.cpus !== undefined) {
    out.cpus = maxOr('--cpus', f.cpus, (v) => {
      const n = Number(v);
      if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw usage('--cpus', v, 'must be a positive number of CPUs');
      return n;
    });
  }
  if (f.cpuShares !== undefined) out.cpuShares = int('--cpu-shares', 'must be an integer 2..262144')(f.cpuShares);
  if (f.pidsLimit !== undefined) out.pidsMax = maxOr('--pids-limit', f.pidsLimit, int('--pids-limit', 'must be an integer'));
  if (f.disk !== undefined) out.diskBytes = size('--disk')(f.disk);
  checkRanges(out, f);
  return out;
}

const FLAG_OF: Record<keyof ZoneLimits, [flag: string, raw: keyof ResourceFlags]> = {
  memory: ['--memory', 'memory'],
  swap: ['--memory-swap', 'memorySwap'],
  cpus: ['--cpus', 'cpus'],
  cpuShares: ['--cpu-shares', 'cpuShares'],
  pids: ['--pids-limit', 'pidsLimit'],
};

/** The caps' ranges (limits.ts, the one rule), reported as the flag that was out of range: a usage error. */
function checkRanges(r: ResourceRequest, f: ResourceFlags): void {
  try {
    validateLimits(limitsOf(r));
  } catch (err) {
    const field = err instanceof LxzoneError ? err.where?.replace(/^resources\./, '') : undefined;
    if (field === undefined || !(field in FLAG_OF)) throw err;
    const [flag, raw] = FLAG_OF[field as keyof ZoneLimits];
    throw usage(flag, f[raw] ?? '', err instanceof LxzoneError ? err.message.replace(/^resources\.\w+: \S+ /, '') : String(err));
  }
}

/** A request with no "max" in it, as a zone configuration's resources. */
export function requestedResources(r: ResourceRequest): ResourcesConfig {
  const out: ResourcesConfig = {};
  for (const [k, v] of Object.entries(r) as [keyof ResourcesConfig, number | null][]) if (v !== null) out[k] = v;
  return out;
}
