// `lxzone halt NAME [-t SECONDS]`: SIGTERM to the zone's init (SIGRTMIN+3 to a system zone's systemd), then after the
// grace period SIGKILL of the whole zone.
import type { Command } from 'commander';
import { LxzoneError } from '../errors.js';
import { haltZone } from '../zone/lifecycle/api.js';
import { printZone } from './boot.js';

export function graceMs(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new LxzoneError(`option -t ${JSON.stringify(v)}: must be a number of seconds >= 0`, { exitCode: 2 });
  return Math.round(n * 1000);
}

export function register(program: Command): void {
  program
    .command('halt')
    .description('stop a zone (SIGTERM, then SIGKILL after the grace period)')
    .argument('<name>', 'the zone')
    .option('-t, --time <seconds>', 'grace period before SIGKILL (default 10; 60 for a system zone)')
    .option('--json', 'print the zone as JSON')
    .action(async (name: string, f: { time?: string; json?: boolean }) => {
      const t = graceMs(f.time);
      printZone(await haltZone(name, t !== undefined ? { timeoutMs: t } : {}), f.json);
    });
}
