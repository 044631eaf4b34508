// lxzone's command line: one file per verb under src/cli/, each exporting
// register(program). Results go to stdout, errors to stderr; exit codes:
// 0 ok, 1 failure, 2 usage error, and for `run`/`exec` the zone's own status
// (125 lxzone failed, 126 cannot execute, 127 not found, 128+N killed by N).
import { Command, CommanderError } from 'commander';
import { LxzoneError } from '../errors.js';
import { verbs } from './verbs.js';

export function buildProgram(): Command {
  const program = new Command('lxzone')
    .description('Run unmodified Linux binaries in isolated zones')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  for (const register of verbs) register(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version exit 0; usage errors exit 2 (commander already printed the message).
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    reportError(err);
  }
}

export function reportError(err: unknown): void {
  if (err instanceof LxzoneError) {
    process.stderr.write(`lxzone: ${err.message}\n`);
    process.exitCode = err.exitCode;
    return;
  }
  const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`lxzone: internal error: ${message}\n`);
  process.exitCode = 125;
}
