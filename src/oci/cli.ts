// lxzone-runc: runc's command line (as containerd's go-runc calls it) over
// lxzone zones. Parses flags and calls src/oci/container.ts, nothing more.
// Errors: one line on stderr, and with --log a line in the log file (JSON
// with --log-format json: containerd's shim reads the last error from it);
// exit 1 for a failure, 2 for a usage error, `run`: the container's status.
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { asLxzoneError, EXIT, LxzoneError } from '../errors.js';
import { createContainer, deleteContainer, killContainer, ociState, parseSignal, startContainer, statusOf } from './container.js';
import { defaultSpec, features } from './defaults.js';
import { DEFAULT_ROOT, StateRoot } from './state.js';

interface Globals {
  root: string;
  log?: string;
  logFormat: 'text' | 'json';
  systemdCgroup?: boolean;
  debug?: boolean;
}

let globals: Globals = { root: DEFAULT_ROOT, logFormat: 'text' };

function log(level: 'error' | 'warning' | 'info', msg: string): void {
  if (!globals.log) {
    if (level !== 'info') process.stderr.write(`lxzone-runc: ${msg}\n`);
    return;
  }
  const line = globals.logFormat === 'json' ? JSON.stringify({ level, msg, time: new Date().toISOString() }) : `${new Date().toISOString()} ${level}: ${msg}`;
  try {
    appendFileSync(globals.log, `${line}\n`);
  } catch {
    /* a log we cannot write must not hide the error itself (stderr below) */
  }
  if (level === 'error') process.stderr.write(`lxzone-runc: ${msg}\n`);
}

function stateRoot(): StateRoot {
  return new StateRoot(resolve(globals.root));
}

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

function createFlags(cmd: Command): Command {
  return cmd
    .option('-b, --bundle <dir>', "the bundle's directory (config.json and the root)", '.')
    .option('--pid-file <file>', "write the container's pid (its keeper's: the process whose exit status is the container's) here")
    .option('--console-socket <path>', "a unix socket to send the terminal's master to (not supported yet)")
    .option('--no-pivot', 'accepted for compatibility: a zone always pivots')
    .option('--no-new-keyring', 'accepted: a zone always gets a fresh session keyring')
    .option('--preserve-fds <n>', 'extra fds for the process (refused: no host fd crosses into a zone)', (v) => Number(v), 0);
}

function build(): Command {
  const program = new Command('lxzone-runc')
    .description('An OCI runtime (runc command line) running containers as lxzone zones')
    .version('0.1.0 (runtime-spec 1.1.0)')
    .option('--root <dir>', 'state directory', DEFAULT_ROOT)
    .option('--log <file>', 'log file (errors and notes)')
    .addOption(new Option('--log-format <format>', 'log format').choices(['text', 'json']).default('text'))
    .option('--systemd-cgroup', 'use systemd cgroups (refused: not supported)')
    .option('--debug', 'more notes in the log')
    .option('--rootless <value>', 'accepted for compatibility (lxzone-runc needs root)')
    .exitOverride()
    .showHelpAfterError();
  program.hook('preAction', () => {
    globals = program.opts<Globals>();
    if (globals.systemdCgroup) throw new LxzoneError('--systemd-cgroup is not supported: lxzone places each zone in a cgroup of its own under its cgroupfs parent; configure the runtime with SystemdCgroup = false', { exitCode: 1, code: 'ENOTSUP' });
  });

  createFlags(program.command('create').argument('<id>').description('create a container: built, its process waiting for start'))
    .action(async (id: string, f: { bundle: string; pidFile?: string; consoleSocket?: string; preserveFds: number }) => {
      const c = await createContainer(stateRoot(), { id, bundle: f.bundle, pidFile: f.pidFile, consoleSocket: f.consoleSocket, preserveFds: f.preserveFds, log: (l) => log('info', l) });
      // The keeper serves the zone from now on (and outlives us).
      c.zone.handOff();
    });

  program.command('start').argument('<id>').description("start a created container's process").action(async (id: string) => {
    await startContainer(stateRoot(), id);
  });

  createFlags(program.command('run').argument('<id>').description('create and start a container, wait for it and delete it'))
    .option('-d, --detach', 'return once started')
    .action(async (id: string, f: { bundle: string; pidFile?: string; consoleSocket?: string; preserveFds: number; detach?: boolean }) => {
      const root = stateRoot();
      const c = await createContainer(root, { id, bundle: f.bundle, pidFile: f.pidFile, consoleSocket: f.consoleSocket, preserveFds: f.preserveFds, attached: !f.detach, log: (l) => log('info', l) });
      if (f.detach) c.zone.handOff();
      try {
        await startContainer(root, id);
      } catch (err) {
        await deleteContainer(root, id, true);
        throw err;
      }
      if (f.detach) return;
      for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const) process.on(sig, () => c.zone.kill(sig));
      let code: number;
      try {
        code = (await c.zone.wait()).exitCode;
      } catch (err) {
        code = (err as LxzoneError).exitCode ?? EXIT.zoneFailure;
      }
      await deleteContainer(root, id, true);
      process.exitCode = code;
    });

  program.command('state').argument('<id>').description("the container's state (runtime-spec JSON)").action(async (id: string) => {
    const root = stateRoot();
    const rec = root.load(id);
    print(ociState(rec, await statusOf(root, rec)));
  });

  program
    .command('kill')
    .argument('<id>')
    .argument('[signal]', 'signal name or number', 'SIGTERM')
    .option('-a, --all', "signal every process of the container (its cgroup's)")
    .description("send a signal to the container's process")
    .action(async (id: string, signal: string, f: { all?: boolean }) => {
      await killContainer(stateRoot(), id, parseSignal(signal), f.all ?? false);
    });

  program
    .command('delete')
    .argument('<id>')
    .option('-f, --force', 'kill it first if it runs')
    .description('delete a container and what create made for it')
    .action(async (id: string, f: { force?: boolean }) => {
      await deleteContainer(stateRoot(), id, f.force ?? false);
    });

  program
    .command('list')
    .alias('ls')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'))
    .option('-q, --quiet', 'ids only')
    .description('list containers')
    .action(async (f: { format: string; quiet?: boolean }) => {
      const root = stateRoot();
      const rows: Record<string, unknown>[] = [];
      for (const id of root.ids()) {
        try {
          const rec = root.load(id);
          rows.push(ociState(rec, await statusOf(root, rec)));
        } catch {
          /* half-made (create in progress or died): not a container yet */
        }
      }
      if (f.quiet) return void process.stdout.write(rows.map((r) => `${r.id as string}\n`).join(''));
      if (f.format === 'json') return print(rows);
      const lines = ['ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER', ...rows.map((r) => [r.id, r.pid, r.status, r.bundle, r.created, 'root'].join('\t'))];
      process.stdout.write(`${lines.join('\n')}\n`);
    });

  program
    .command('spec')
    .option('-b, --bundle <dir>', 'where to write config.json', '.')
    .option('--rootless', 'accepted; the spec is the same')
    .description('write a default config.json')
    .action((f: { bundle: string }) => {
      const file = join(resolve(f.bundle), 'config.json');
      if (existsSync(file)) throw new LxzoneError(`${file} exists already`, { code: 'EEXIST' });
      writeFileSync(file, `${JSON.stringify(defaultSpec(), null, 2)}\n`);
    });

  program.command('features').description("what this runtime supports (runtime-spec features.md)").action(() => print(features()));
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = build();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : EXIT.usage;
      return;
    }
    const e = asLxzoneError(err);
    if (e) {
      log('error', e.message);
      process.exitCode = e.exitCode;
    } else {
      const message = err instanceof Error ? (process.env.LXZONE_DEBUG ? (err.stack ?? err.message) : err.message) : String(err);
      log('error', `internal error: ${message}`);
      process.exitCode = EXIT.failure;
    }
  }
}
