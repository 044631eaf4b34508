// lxzone-runc: runc's command line (as containerd's go-runc calls it) over
// lxzone zones. Parses flags and calls src/oci/container.ts, nothing more.
// Errors: one line on stderr, and with --log a line in the log file (JSON
// with --log-format json: containerd's shim reads the last error from it);
// exit 1 for a failure, 2 for a usage error, `run`: the container's status.
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join, resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { asLxzoneError, EXIT, LxzoneError } from '../errors.js';
import { createContainer, deleteContainer, killContainer, ociState, parseSignal, startContainer, statusOf } from './container.js';
import { defaultSpec, features } from './defaults.js';
import { execContainer, readProcessFile } from './exec.js';
import { containerPids, psTable, setPaused, statsEvent, updateContainer } from './ops.js';
import { checkOciResources, type OciProcess, type OciResources } from './spec.js';
import { DEFAULT_ROOT, StateRoot } from './state.js';

interface Globals {
  root: string;
  log?: string;
  logFormat: 'text' | 'json';
  systemdCgroup?: boolean;
  debug?: boolean;
  kernelVersion?: string;
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
    .option('--console-socket <path>', "a unix socket to send the terminal's master to (SCM_RIGHTS, as runc)")
    .option('--no-pivot', 'accepted for compatibility: a zone always pivots')
    .option('--no-new-keyring', 'accepted: a zone always gets a fresh session keyring')
    .option('--preserve-fds <n>', "pass our fds 3..3+N-1 to the container's process as its 3..3+N-1 (as runc)", (v) => Number(v), 0);
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
    // dockerd's runtimeArgs and a wrapper's flags reach every container this way (containerd's CRI passes the annotation).
    .option('--kernel-version <release>', 'the uname release containers report (default: the host\'s; the annotation org.lxzone.kernel-version wins)')
    .option('--rootless <value>', 'accepted for compatibility (lxzone-runc needs root)')
    .exitOverride()
    .showHelpAfterError()
    // Global flags come before the command (as runc's); exec's and ps's own arguments after the id pass through.
    .enablePositionalOptions();
  program.hook('preAction', () => {
    globals = program.opts<Globals>();
    if (globals.systemdCgroup) throw new LxzoneError('--systemd-cgroup is not supported: lxzone places each zone in a cgroup of its own under its cgroupfs parent; configure the runtime with SystemdCgroup = false', { exitCode: 1, code: 'ENOTSUP' });
  });

  createFlags(program.command('create').argument('<id>').description('create a container: built, its process waiting for start'))
    .action(async (id: string, f: { bundle: string; pidFile?: string; consoleSocket?: string; preserveFds: number }) => {
      const c = await createContainer(stateRoot(), { id, bundle: f.bundle, pidFile: f.pidFile, consoleSocket: f.consoleSocket, preserveFds: f.preserveFds, kernelVersion: globals.kernelVersion, log: (l) => log('info', l) });
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
      const c = await createContainer(root, { id, bundle: f.bundle, pidFile: f.pidFile, consoleSocket: f.consoleSocket, preserveFds: f.preserveFds, kernelVersion: globals.kernelVersion, attached: !f.detach, log: (l) => log('info', l) });
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

  program
    .command('exec')
    .argument('<id>')
    .argument('[command...]', 'the command and its arguments (without --process)')
    .option('-p, --process <file>', 'a runtime-spec process JSON (instead of the command and the flags below)')
    .option('-d, --detach', 'return once the process runs (its keeper serves it)')
    .option('--pid-file <file>', "write the process's pid (its keeper's) here")
    .option('-t, --tty', 'a pseudo-terminal (relayed by the keeper)')
    .option('--console-socket <path>', "a unix socket to send the terminal's master to (SCM_RIGHTS, as runc)")
    .option('--cwd <dir>', 'working directory in the container', '/')
    .option('-e, --env <var>', 'KEY=VALUE (repeatable)', (v: string, a: string[]) => [...a, v], [] as string[])
    .option('-u, --user <uid[:gid]>', "the process's user", '0:0')
    .option('--preserve-fds <n>', 'refused for exec (create and run pass fds)', (v) => Number(v), 0)
    .option('--no-new-privs', 'accepted: always set')
    .passThroughOptions()
    .description('run a process in a container')
    .action(async (id: string, command: string[], f: { process?: string; detach?: boolean; pidFile?: string; tty?: boolean; consoleSocket?: string; cwd: string; env: string[]; user: string; preserveFds: number }) => {
      let proc: OciProcess;
      if (f.process) {
        proc = readProcessFile(f.process);
      } else {
        if (!command.length) throw new LxzoneError('exec: give a command, or --process FILE', { exitCode: 2, code: 'EINVAL' });
        const m = /^(\d+)(?::(\d+))?$/.exec(f.user);
        if (!m) throw new LxzoneError(`--user ${JSON.stringify(f.user)}: uid[:gid] (numbers)`, { exitCode: 2, code: 'EINVAL' });
        proc = { args: command, cwd: f.cwd, env: f.env, terminal: f.tty ?? false, user: { uid: Number(m[1]), gid: Number(m[2] ?? 0) } };
      }
      const code = await execContainer(stateRoot(), { id, process: proc, containerCaps: !f.process, detach: f.detach ?? false, pidFile: f.pidFile, consoleSocket: f.consoleSocket, preserveFds: f.preserveFds, log: (l) => log('info', l) });
      if (code !== undefined) process.exitCode = code;
    });

  program.command('pause').argument('<id>').description("freeze every process of the container (its cgroup's freezer)").action(async (id: string) => {
    await setPaused(stateRoot(), id, true);
  });
  program.command('resume').argument('<id>').description('thaw a paused container').action(async (id: string) => {
    await setPaused(stateRoot(), id, false);
  });

  program
    .command('ps')
    .argument('<id>')
    .argument('[ps-args...]', "the host ps's options (default -ef)")
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'))
    .passThroughOptions()
    .description("the container's processes")
    .action(async (id: string, args: string[], f: { format: string }) => {
      if (f.format === 'json') return print(await containerPids(stateRoot(), id));
      process.stdout.write(await psTable(stateRoot(), id, args));
    });

  program
    .command('update')
    .argument('<id>')
    .option('-r, --resources <file>', 'linux.resources JSON ("-": stdin)')
    .option('--memory <bytes>', 'memory limit')
    .option('--memory-swap <bytes>', 'memory plus swap limit')
    .option('--pids-limit <n>', 'maximum number of processes')
    .option('--cpu-shares <n>', 'CPU shares')
    .option('--cpu-quota <us>', 'CPU quota per period')
    .option('--cpu-period <us>', 'CPU period')
    .description("change a running container's resource caps")
    .action(async (id: string, f: { resources?: string; memory?: string; memorySwap?: string; pidsLimit?: string; cpuShares?: string; cpuQuota?: string; cpuPeriod?: string }) => {
      let r: OciResources = {};
      if (f.resources) {
        const text = readFileSync(f.resources === '-' ? 0 : f.resources, 'utf8');
        try {
          r = checkOciResources(JSON.parse(text), `--resources ${f.resources}`);
        } catch (err) {
          if (err instanceof LxzoneError) throw err;
          throw new LxzoneError(`--resources ${f.resources}: ${(err as Error).message}`, { code: 'EINVAL' });
        }
      }
      const num = (v: string | undefined, flag: string): number | undefined => {
        if (v === undefined) return undefined;
        const n = Number(v);
        if (!Number.isInteger(n)) throw new LxzoneError(`--${flag} ${JSON.stringify(v)}: not an integer`, { exitCode: 2, code: 'EINVAL' });
        return n;
      };
      const memory = { ...(r.memory ?? {}), ...(f.memory ? { limit: num(f.memory, 'memory') } : {}), ...(f.memorySwap ? { swap: num(f.memorySwap, 'memory-swap') } : {}) };
      const cpu = { ...(r.cpu ?? {}), ...(f.cpuShares ? { shares: num(f.cpuShares, 'cpu-shares') } : {}), ...(f.cpuQuota ? { quota: num(f.cpuQuota, 'cpu-quota') } : {}), ...(f.cpuPeriod ? { period: num(f.cpuPeriod, 'cpu-period') } : {}) };
      r = { ...r, ...(Object.keys(memory).length ? { memory } : {}), ...(Object.keys(cpu).length ? { cpu } : {}), ...(f.pidsLimit ? { pids: { limit: num(f.pidsLimit, 'pids-limit')! } } : {}) };
      await updateContainer(stateRoot(), id, r);
    });

  program
    .command('events')
    .argument('<id>')
    .option('--stats', 'print the container\'s resource usage once')
    .option('--interval <seconds>', 'seconds between stats records', '5')
    .description("the container's resource usage as JSON records (runc's events)")
    .action(async (id: string, f: { stats?: boolean; interval: string }) => {
      const root = stateRoot();
      if (f.stats) return void process.stdout.write(`${JSON.stringify(await statsEvent(root, id))}\n`);
      const seconds = Number(f.interval);
      if (!(seconds > 0)) throw new LxzoneError(`--interval ${JSON.stringify(f.interval)}: a positive number of seconds`, { exitCode: 2, code: 'EINVAL' });
      for (;;) {
        let ev: Record<string, unknown>;
        try {
          ev = await statsEvent(root, id);
        } catch (err) {
          if ((err as LxzoneError).code === 'ESRCH') return; // stopped: the stream ends
          throw err;
        }
        process.stdout.write(`${JSON.stringify(ev)}\n`);
        await sleep(seconds * 1000);
      }
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
