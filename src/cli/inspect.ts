// `lxzone inspect NAME`: everything about a zone as JSON (config, runtime
// record, address, cgroup and usage, log files).
import type { Command } from 'commander';
import { inspectZone } from '../zone/lifecycle/api.js';

export function register(program: Command): void {
  program
    .command('inspect')
    .description('show a zone as JSON')
    .argument('<name>', 'the zone')
    .action(async (name: string) => {
      process.stdout.write(`${JSON.stringify(await inspectZone(name), null, 2)}\n`);
    });
}
