// `lxzone run [options] -- CMD [ARG...]`: a binary in a fresh zone, one shot.
// The zone's exit status is ours; signals sent to us reach the zone.
import { createWriteStream, openSync, type WriteStream } from 'node:fs';
import { Command, Option } from 'commander';
import { EXIT, LxzoneError } from '../errors.js';
import { resolveProfile } from '../policy/resolve.js';
import { traceHostCalls } from '../policy/trace-rules.js';
import { hostAbis, syscallByNr, type Abi } from '../tables/index.js';
import { limitsOf } from '../zone/cgroups/index.js';
import { parseEnvFlags, parseUserFlag, parseVolumeFlag } from '../zone/config/flags.js';
import { resolveUser } from '../zone/config/user.js';
import { startOneShot, type RunOptions, type ZoneStats } from '../zone/run.js';
import { runNamed } from '../zone/lifecycle/run-named.js';
import type { ImageConfig } from '../zone/image/manifests.js';
import { ImageStore } from '../zone/image/store/images.js';
import { zoneImage, type ZoneImage } from '../zone/image/store/zone-image.js';
import { PullProgress } from './pull-progress.js';
import { addResourceOptions, parseResourceFlags, requestedResources, type ResourceFlags } from './resource-options.js';

interface RunFlags extends ResourceFlags {
  rootfs?: string;
  image?: string;
  root: 'ro' | 'cow';
  hostname?: string;
  kernelVersion?: string;
  kernelVersionEnv?: boolean;
  profile: string;
  env: string[];
  volume: string[];
  workdir?: string;
  user?: string;
  init: boolean;
  tty?: boolean;
  network: 'none' | 'loopback' | 'zone';
  trace?: string | boolean;
  traceOutput?: string;
  stats?: boolean;
  json?: boolean;
  name?: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/**
 * Signals we relay to the zone. The zone is a session of its own, so a
 * terminal's ^C reaches us (and the keeper, which ignores it) but not the
 * zone: we pass it on. With -t the terminal is raw and ^C is a byte the
 * zone's own terminal turns into SIGINT.
 */
const RELAYED_SIGNALS: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

function statsText(stats: ZoneStats): string {
  const name = (abi: string, nr: number): string => syscallByNr(abi as Abi, nr)?.name ?? `#${nr}`;
  const lines = ['lxzone: notified syscalls:'];
  for (const r of stats.notified) lines.push(`  ${r.abi.padEnd(7)} ${name(r.abi, r.nr).padEnd(24)} ${r.count}`);
  if (stats.unsupported.length) {
    lines.push('lxzone: unsupported syscalls (ENOSYS):');
    for (const r of stats.unsupported) lines.push(`  ${r.abi.padEnd(7)} ${name(r.abi, r.nr).padEnd(24)} ${r.count}`);
  }
  lines.push(`lxzone: handler errors: ${stats.handlerErrors}, js timeouts: ${stats.jsTimeouts}`);
  return `${lines.join('\n')}\n`;
}

/**
 * `--trace` alone: every call the chosen profile lets the host run is traced
 * (src/policy/trace-rules.ts). `--trace=a,b`: those syscalls, where the
 * profile lets the host run them. Either way an emulated or refused call
 * keeps its disposition: tracing never changes what a zone may do.
 */
function traceRules(spec: string | boolean | undefined, profile: string): Pick<RunOptions, 'profile' | 'extraRules'> {
  if (spec === undefined || spec === false) return { profile };
  if (spec === true) return { profile, extraRules: traceHostCalls(profile, hostAbis()) };
  const names = spec.split(',').map((s) => s.trim()).filter(Boolean);
  const resolved = new Map(resolveProfile(profile, 'x86_64').syscalls.map((s) => [s.name, s]));
  for (const n of names) if (!resolved.has(n)) throw new LxzoneError(`--trace: unknown syscall "${n}"`, { exitCode: 2 });
  const traced = names.filter((n) => resolved.get(n)!.disposition === 'host' && !resolved.get(n)!.conditional);
  for (const n of names.filter((x) => !traced.includes(x))) {
    process.stderr.write(`lxzone: --trace: ${n} is ${resolved.get(n)!.disposition} in profile ${profile}; not traced\n`);
  }
  if (traced.length === 0) return { profile };
  return { profile, extraRules: [{ names: traced, disposition: 'trace', note: 'traced by lxzone run --trace' }] };
}

/** The --trace-output file, opened now: a path that cannot be written is a usage error before any zone starts. */
function openTraceOutput(path: string): WriteStream {
  let fd: number;
  try {
    fd = openSync(path, 'w');
  } catch (err) {
    throw new LxzoneError(`--trace-output ${path}: ${(err as Error).message.split(',')[0]}`, { exitCode: EXIT.usage, code: (err as NodeJS.ErrnoException).code, cause: err });
  }
  return createWriteStream(path, { fd });
}

/** `run --image`: the image, pulled first if the store lacks it (progress on stderr). */
async function imageForRun(flags: RunFlags, cmd: Command): Promise<ZoneImage> {
  if (flags.rootfs !== undefined) throw new LxzoneError('--image excludes --rootfs', { exitCode: 2 });
  if (cmd.getOptionValueSource('root') !== 'default') throw new LxzoneError('--image excludes --root (an image zone is always copy-on-write over its layers)', { exitCode: 2 });
  const progress = new PullProgress(process.stderr.isTTY ? 'bars' : 'lines');
  try {
    return await zoneImage(new ImageStore(), flags.image as string, progress.event);
  } finally {
    progress.stop();
  }
}

/** Docker's rule: the command given replaces Cmd, and follows the Entrypoint. */
export function imageArgv(config: ImageConfig, command: string[]): string[] {
  const argv = [...(config.entrypoint ?? []), ...(command.length > 0 ? command : (config.cmd ?? []))];
  if (argv.length === 0) throw new LxzoneError('the image declares no Entrypoint or Cmd: give the command to run (after --)', { exitCode: 2 });
  return argv;
}

/** `run --name`: the zone is created and kept (src/zone/lifecycle/run-named.ts). */
async function runNamedFromFlags(name: string, command: string[], flags: RunFlags, cmd: Command): Promise<number> {
  for (const f of ['tty', 'trace', 'traceOutput', 'stats', 'json'] as const) {
    if (flags[f] !== undefined && flags[f] !== false) {
      throw new LxzoneError(`--name: the zone runs under the daemon, so --${f.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} cannot apply (use lxzone exec -it NAME for a terminal)`, { exitCode: 2 });
    }
  }
  const given = (o: string) => cmd.getOptionValueSource(o) !== 'default';
  if (flags.image !== undefined) throw new LxzoneError('--image with --name: use lxzone create --image, then boot', { exitCode: 2 });
  return runNamed(
    {
      name,
      command,
      rootfs: flags.rootfs,
      cow: flags.root === 'cow',
      hostname: given('hostname') ? flags.hostname : undefined,
      kernelVersion: flags.kernelVersion,
      profile: given('profile') ? flags.profile : undefined,
      env: flags.env,
      volume: flags.volume,
      workdir: given('workdir') ? flags.workdir : undefined,
      user: flags.user,
      init: flags.init,
      network: given('network') ? flags.network : undefined,
      resources: requestedResources(parseResourceFlags(flags)),
    },
    { stdout: (b) => process.stdout.write(b), stderr: (b) => process.stderr.write(b) },
  );
}

export function register(program: Command): void {
  const cmd = program
    .command('run')
    .description('run a command in a new zone (removed when it exits)')
    .argument('[command...]', "the binary and its arguments (options end at it); with --image, the image's Cmd by default")
    .passThroughOptions()
    .option('--rootfs <dir>', "a directory to use as the zone's root (default: the host's root, read-only)")
    .option('--image <ref>', "run an image of the image store (pulled first if missing): its layers shared, the zone's writes on a tmpfs; its Env, Cmd, Entrypoint, WorkingDir and User applied")
    .addOption(new Option('--root <mode>', "the host's root read-only, or copy-on-write (writes kept in the zone, never on the host; discarded when a one-shot zone ends)").choices(['ro', 'cow']).default('ro'))
    .option('--hostname <name>', "the zone's hostname", 'lxzone')
    .option('--kernel-version <release>', 'the kernel release uname(2) reports in the zone')
    .option('--kernel-version-env', 'let a process pick its own release with LXZONE_KERNEL_VERSION in its environment')
    .option('--profile <name>', 'the syscall profile (default, strict, permissive, trace)', 'default')
    .option('-e, --env <KEY=VALUE>', 'set an environment variable (repeatable)', collect, [])
    .option('-v, --volume <host:zone[:ro]>', 'bind a host path into the zone (repeatable)', collect, [])
    .option('-w, --workdir <dir>', 'working directory in the zone', '/')
    .option('-u, --user <uid[:gid]>', 'run as this user of the zone')
    .option('--no-init', 'run the binary itself as pid 1 (no reaper)')
    .option('-t, --tty', 'give the binary a pseudo-terminal of the zone (the default when stdin and stdout are terminals)')
    .option('--no-tty', 'no pseudo-terminal, even on a terminal: the zone reads and writes our stdio')
    .option('-i, --interactive', 'keep stdin open (always the case; accepted for docker compatibility)')
    .addOption(new Option('--network <mode>', 'zone network').choices(['none', 'loopback', 'zone']).default('loopback'))
    .option('--trace [syscalls]', 'print the syscalls the zone makes (all, or a comma-separated list), strace style')
    .option('--trace-output <file>', 'write trace lines to a file instead of stderr')
    .option('--stats', 'print the counters of notified syscalls at exit (stderr)')
    .option('--json', 'print the result (exit code, stats) as JSON on stdout at exit')
    .option('--name <name>', 'keep the zone as NAME, run by the daemon: output shown until it stops (lxzone boot NAME runs it again)');
  addResourceOptions(cmd).action(async (command: string[], flags: RunFlags, cmd: Command) => {
      if (flags.name !== undefined) {
        process.exitCode = await runNamedFromFlags(flags.name, command, flags, cmd);
        return;
      }
      const image = flags.image !== undefined ? await imageForRun(flags, cmd) : undefined;
      if (!image && command.length === 0) throw new LxzoneError('run: give the command to run (after --), or --image', { exitCode: 2 });
      const env = { ...(image?.config.env ?? {}), ...parseEnvFlags(flags.env) };
      const binds = flags.volume.map(parseVolumeFlag);
      let uid: number | undefined;
      let gid: number | undefined;
      const userSpec = flags.user !== undefined ? parseUserFlag(flags.user) : image?.config.user;
      if (userSpec !== undefined) {
        const u = resolveUser(userSpec, image ? image.readFile : (flags.rootfs ?? '/'));
        uid = u.uid;
        gid = u.gid;
      }
      let traceFile: WriteStream | undefined;
      const trace = traceRules(flags.trace, flags.profile);
      if (flags.traceOutput) traceFile = openTraceOutput(flags.traceOutput);
      const onTrace = flags.trace !== undefined
        ? (line: string) => (traceFile ? traceFile.write(`${line}\n`) : process.stderr.write(`${line}\n`))
        : undefined;

      const opts: RunOptions = {
        argv: image ? imageArgv(image.config, command) : command,
        rootfs: flags.rootfs,
        ...(flags.root === 'cow' ? { rootCow: {} } : {}),
        ...(image ? { rootCow: { layers: image.layers } } : {}),
        hostname: flags.hostname,
        kernelVersion: flags.kernelVersion,
        kernelVersionEnv: flags.kernelVersionEnv,
        env,
        cwd: image && cmd.getOptionValueSource('workdir') === 'default' ? (image.config.workingDir ?? '/') : flags.workdir,
        uid,
        gid,
        init: flags.init,
        // On a terminal the zone gets a terminal of its own, never ours.
        tty: flags.tty ?? (process.stdin.isTTY === true && process.stdout.isTTY === true),
        network: flags.network,
        binds,
        limits: limitsOf(parseResourceFlags(flags)),
        onTrace,
        ...trace,
      };

      // Relay signals to the zone for as long as it runs; one that arrives
      // while a restart backs off ends the series.
      const run = await startOneShot(opts);
      const relay = (sig: NodeJS.Signals) => {
        const running = run.current();
        if (running) running.kill(sig);
        else run.stop();
      };
      const signals = RELAYED_SIGNALS;
      for (const s of signals) process.on(s, relay);
      try {
        const result = await run.result;
        if (flags.stats) process.stderr.write(statsText(result.stats));
        if (flags.json) process.stdout.write(`${JSON.stringify({ exitCode: result.exitCode, signal: result.signal, reboot: result.reboot, restarts: result.restarts, restartLimit: result.restartLimit, stats: result.stats, unsupported: result.unsupported })}\n`);
        if (result.restartLimit) process.stderr.write(`lxzone: the zone is not run again: ${result.restartLimit}\n`);
        // A series ended by the limit is lxzone's refusal, not the binary's exit.
        process.exitCode = result.restartLimit ? 125 : result.exitCode;
      } finally {
        for (const s of signals) process.off(s, relay);
        traceFile?.end();
      }
    });
}
