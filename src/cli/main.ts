// lxzone's command line: one file per verb under src/cli/, each exporting
// register(program); src/cli/program.ts runs them (flags, errors, exit codes).
import type { Command } from 'commander';
import { programWith, runProgram } from './program.js';
import { verbsFor } from './verbs.js';

export { reportError } from './program.js';

/** The program for this command line (`args` without node and the script): only the verbs it needs are loaded. */
export async function buildProgram(args: readonly string[]): Promise<Command> {
  return programWith(await verbsFor(args));
}

export async function main(argv: string[]): Promise<void> {
  await runProgram(argv, await verbsFor(argv.slice(2)));
}
