// `lxzone destroy NAME [--force]`: remove a zone: its state, rootfs copy,
// logs, cgroup, veth and address. Refused while it runs unless forced.
import type { Command } from 'commander';
import { destroyZone } from '../zone/lifecycle/api.js';

export function register(program: Command): void {
  program
    .command('destroy')
    .description('remove a zone and everything it holds')
    .argument('<name>', 'the zone')
    .option('-f, --force', 'kill the zone first if it runs')
    .action(async (name: string, f: { force?: boolean }) => {
      const r = await destroyZone(name, { force: f.force === true });
      for (const w of r.warnings) process.stderr.write(`lxzone: destroy ${name}: ${w}\n`);
      process.stdout.write(`${name}\n`);
    });
}
