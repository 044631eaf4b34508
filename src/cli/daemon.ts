// `lxzone daemon`: run the daemon in the foreground (for a service manager;
// the CLI starts one on demand otherwise). `lxzone daemon stop [--halt-zones]`
// stops a running one; its zones keep running for the next daemon unless
// --halt-zones.
import type { Command } from 'commander';
import { runDaemon } from '../daemon/server.js';
import { stopDaemon } from '../zone/lifecycle/api.js';

export function register(program: Command): void {
  const d = program
    .command('daemon')
    .description('run the lxzone daemon in the foreground (it holds booted zones)')
    .action(async () => {
      await runDaemon();
    });
  d.command('stop')
    .description('stop the running daemon')
    .option('--halt-zones', 'halt every zone first (otherwise they wait for the next daemon)')
    .action(async (f: { haltZones?: boolean }) => {
      const stopped = await stopDaemon({ haltZones: f.haltZones === true });
      process.stdout.write(stopped ? 'stopped\n' : 'no daemon was running\n');
    });
}
