// `lxzone exec [-i] [-t] NAME -- COMMAND...`: run a command in a running
// zone; its exit status is ours. -t gives it a terminal, -i our stdin.
import type { Command } from 'commander';
import { parseEnvFlags, parseUserFlag } from '../zone/config/flags.js';
import { startExecZone } from '../zone/lifecycle/api.js';
import type { RunningZone } from '../zone/run.js';
import { isTerminal } from './terminal.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Options end at the zone's name, so a `--` written after it (`exec web -- cmd`) reaches us as the command's first word. */
const withoutSeparator = (command: string[]): string[] => (command[0] === '--' ? command.slice(1) : command);

interface ExecFlags {
  interactive?: boolean;
  tty?: boolean;
  env: string[];
  user?: string;
  workdir?: string;
}

export function register(program: Command): void {
  program
    .command('exec')
    .description('run a command in a running zone')
    .argument('<name>', 'the zone')
    .argument('<command...>', 'the command and its arguments (after --)')
    .option('-i, --interactive', 'pass our stdin to the command')
    .option('-t, --tty', 'give the command a pseudo-terminal')
    .option('-e, --env <KEY=VALUE>', 'set an environment variable (repeatable)', collect, [])
    .option('-u, --user <uid[:gid]|name[:group]>', 'run as this user of the zone')
    .option('-w, --workdir <dir>', 'working directory in the zone')
    .passThroughOptions()
    .action(async (name: string, command: string[], f: ExecFlags) => {
      const running: RunningZone = await startExecZone(name, {
        argv: withoutSeparator(command),
        tty: f.tty === true,
        stdio: f.interactive || f.tty ? 'inherit' : 'no-stdin',
        env: parseEnvFlags(f.env),
        ...(f.user !== undefined ? { user: parseUserFlag(f.user) } : {}),
        ...(f.workdir !== undefined ? { cwd: f.workdir } : {}),
      });
      const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];
      if (!isTerminal(0)) signals.push('SIGINT', 'SIGQUIT');
      const relay = (sig: NodeJS.Signals) => running.kill(sig);
      for (const s of signals) process.on(s, relay);
      try {
        process.exitCode = (await running.wait()).exitCode;
      } finally {
        for (const s of signals) process.off(s, relay);
      }
    });
}
