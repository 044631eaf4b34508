// `lxzone list [--json]`: every zone with its state, init pid, uptime and address.
import type { Command } from 'commander';
import { listZones } from '../zone/lifecycle/api.js';
import { listTable } from '../zone/lifecycle/format.js';

export function register(program: Command): void {
  program
    .command('list')
    .alias('ls')
    .description('list zones (name, state, pid, uptime, IP)')
    .option('--json', 'print the zones as JSON')
    .action(async (f: { json?: boolean }) => {
      const zones = await listZones();
      process.stdout.write(f.json ? `${JSON.stringify(zones, null, 2)}\n` : listTable(zones));
    });
}
