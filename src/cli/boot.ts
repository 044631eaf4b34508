// `lxzone boot NAME`: start a created zone; it keeps running after we exit
// (the daemon, started on demand, holds it).
import type { Command } from 'commander';
import { bootZone } from '../zone/lifecycle/api.js';
import type { ZoneInfo } from '../zone/lifecycle/types.js';

export function printZone(z: ZoneInfo, json: boolean | undefined): void {
  if (json) process.stdout.write(`${JSON.stringify(z)}\n`);
  else process.stdout.write(`${z.name} ${z.state}${z.pid !== undefined ? ` pid ${z.pid}` : ''}${z.ipv4 ? ` ${z.ipv4}` : ''}\n`);
}

export function register(program: Command): void {
  program
    .command('boot')
    .description('boot a created zone')
    .argument('<name>', 'the zone')
    .option('--json', 'print the zone as JSON')
    .action(async (name: string, f: { json?: boolean }) => printZone(await bootZone(name), f.json));
}
