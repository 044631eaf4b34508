// `lxzone logs NAME [-f] [-n N]`: the zone's stdout on stdout, its stderr on
// stderr; -f follows until the zone stops.
import type { Command } from 'commander';
import { LxzoneError } from '../errors.js';
import { zoneLogs } from '../zone/lifecycle/api.js';

export function register(program: Command): void {
  program
    .command('logs')
    .description("print a zone's stdout and stderr")
    .argument('<name>', 'the zone')
    .option('-f, --follow', 'keep printing until the zone stops')
    .option('-n, --tail <lines>', 'only the last N lines of each stream')
    .action(async (name: string, f: { follow?: boolean; tail?: string }) => {
      let tail: number | undefined;
      if (f.tail !== undefined) {
        tail = Number(f.tail);
        if (!Number.isSafeInteger(tail) || tail < 0) throw new LxzoneError(`option --tail ${JSON.stringify(f.tail)}: must be a number of lines`, { exitCode: 2 });
      }
      const ac = new AbortController();
      const stop = () => ac.abort();
      process.once('SIGINT', stop);
      try {
        await zoneLogs(name, { stdout: (b) => process.stdout.write(b), stderr: (b) => process.stderr.write(b) }, { follow: f.follow === true, tail, signal: ac.signal });
      } finally {
        process.off('SIGINT', stop);
      }
    });
}
