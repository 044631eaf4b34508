// `lxzone reboot NAME`: halt (if running) and boot again; the zone keeps its address.
import type { Command } from 'commander';
import { rebootZone } from '../zone/lifecycle/api.js';
import { printZone } from './boot.js';
import { graceMs } from './halt.js';

export function register(program: Command): void {
  program
    .command('reboot')
    .description('halt a zone and boot it again')
    .argument('<name>', 'the zone')
    .option('-t, --time <seconds>', 'grace period before SIGKILL (default 10)')
    .option('--json', 'print the zone as JSON')
    .action(async (name: string, f: { time?: string; json?: boolean }) => {
      const t = graceMs(f.time);
      printZone(await rebootZone(name, t !== undefined ? { timeoutMs: t } : {}), f.json);
    });
}
