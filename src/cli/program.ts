// lxzone's command line, given the verbs it needs: each verb is a file under
// src/cli/ exporting register(program). main.ts picks the verbs from the
// command line; the bundled CLI (scripts/build-cli.mjs) has one entry per verb
// that calls runProgram with that verb alone, so it loads nothing else.
// Results go to stdout, errors to stderr, one line naming what was wrong
// (never a stack trace: LXZONE_DEBUG=1 shows one for an internal error).
// Exit codes (src/errors.ts EXIT): 0 ok, 1 failure, 2 usage
// error, and for `run`/`exec` the zone's own status (125 lxzone failed, 126
// cannot execute, 127 not found, 128+N killed by N).
import { Command, CommanderError } from 'commander';
import { asLxzoneError, EXIT } from '../errors.js';
import type { RegisterVerb } from './verbs.js';

/** Verbs whose exit status is the zone's: a failure of lxzone itself must not look like the program's (exit 1). */
const ZONE_STATUS_VERBS = new Set(['run', 'exec']);

/** The program with these verbs. */
export function programWith(registers: readonly RegisterVerb[]): Command {
  const program = new Command('lxzone')
    .description('Run unmodified Linux binaries in isolated zones')
    .version('0.1.0')
    .showHelpAfterError()
    // Verbs that take a command stop reading options at it (docker's rule):
    // `lxzone exec web node -e CODE` gives -e to node, not to exec.
    .enablePositionalOptions()
    .exitOverride();
  for (const register of registers) register(program);
  return program;
}

let stdoutGuarded = false;

/**
 * A reader that stops early (`lxzone syscalls --json | head`) closes the pipe:
 * our writes then fail with EPIPE, which is the reader's choice, not an error.
 * Exit quietly, with the status we had, as a program killed by SIGPIPE would
 * have stopped without complaint.
 */
function guardStdout(): void {
  if (stdoutGuarded) return;
  stdoutGuarded = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
    reportError(err);
  });
}

/** Runs the command line `argv` (node, script, args...) with these verbs. */
export async function runProgram(argv: string[], registers: readonly RegisterVerb[]): Promise<void> {
  guardStdout();
  const program = programWith(registers);
  let verb: string | undefined;
  program.hook('preAction', (_program, action) => {
    verb = action.name();
  });
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version exit 0; usage errors exit 2 (commander already printed the message).
      process.exitCode = err.exitCode === 0 ? 0 : EXIT.usage;
      return;
    }
    reportError(err, verb !== undefined && ZONE_STATUS_VERBS.has(verb) ? EXIT.zoneFailure : EXIT.failure);
  }
}

/**
 * Ends a command with `err`: one line on stderr and its exit code. `failure`
 * is the code of a plain failure of this verb (125 where the exit status is
 * otherwise the zone's); a usage error keeps 2.
 */
export function reportError(err: unknown, failure: number = EXIT.failure): void {
  const e = asLxzoneError(err);
  if (e) {
    process.stderr.write(`lxzone: ${e.message}\n`);
    process.exitCode = e.exitCode === EXIT.failure ? failure : e.exitCode;
    return;
  }
  // A defect of lxzone: say so; the stack is for whoever debugs it.
  const message = err instanceof Error ? (process.env.LXZONE_DEBUG ? (err.stack ?? err.message) : err.message) : String(err);
  process.stderr.write(`lxzone: internal error: ${message}\n`);
  process.exitCode = EXIT.zoneFailure;
}
