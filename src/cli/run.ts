// `lxzone run [options] -- CMD [ARG...]`: a binary in a fresh zone, one shot.
// The zone's exit status is ours; signals sent to us reach the zone.
import { createWriteStream, openSync, type WriteStream } from 'node:fs';
import type { Command } from 'commander';
import { EXIT, LxzoneError } from '../errors.js';
import { traceHostCalls, traceListedCalls } from '../policy/trace-rules.js';
import { hostAbis, syscallByNr, type Abi } from '../tables/index.js';
import { zoneSpecFromFlags, type ZoneFlagValues } from '../zone/config/zone-flags.js';
import { startOneShot, type RunOptions, type ZoneStats } from '../zone/run.js';
import type { ZoneImage } from '../zone/image/store/zone-image.js';
import { addZoneOptions } from './zone-options.js';
import { isTerminal } from './terminal.js';
import { addResourceOptions, parseResourceFlags, requestedResources, type ResourceFlags } from './resource-options.js';

interface RunFlags extends ResourceFlags, ZoneFlagValues {
  tty?: boolean;
  trace?: string | boolean;
  traceOutput?: string;
  stats?: boolean;
  json?: boolean;
  name?: string;
}

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
  const { rules, skipped } = traceListedCalls(profile, spec.split(',').map((s) => s.trim()).filter(Boolean));
  for (const { name, disposition } of skipped) process.stderr.write(`lxzone: --trace: ${name} is ${disposition} in profile ${profile}; not traced\n`);
  return rules.length ? { profile, extraRules: rules } : { profile };
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

/**
 * `run --image`: the image, pulled first if the store lacks it (progress on
 * stderr), and recorded as in use by this run until `release` (prune and
 * rmi leave it alone meanwhile; a run that dies counts no more).
 */
async function imageForRun(flags: RunFlags): Promise<{ image: ZoneImage; runtimeDir: string; release: () => void }> {
  if (flags.rootfs !== undefined) throw new LxzoneError('--image excludes --rootfs', { exitCode: 2 });
  if (flags.root !== undefined) throw new LxzoneError('--image excludes --root (an image zone is always copy-on-write over its layers)', { exitCode: 2 });
  // Loaded here, not at start: the image store (tar, zstd, the registry client) is
  // most of the CLI's code, and a run without --image never needs it.
  const [{ ImageStore }, { zoneImage }, { PullProgress }] = await Promise.all([
    import('../zone/image/store/images.js'),
    import('../zone/image/store/zone-image.js'),
    import('./pull-progress.js'),
  ]);
  const progress = new PullProgress(process.stderr.isTTY ? 'bars' : 'lines');
  const store = new ImageStore();
  let image: ZoneImage;
  try {
    image = await zoneImage(store, flags.image as string, progress.event);
  } finally {
    progress.stop();
  }
  // Unless -u says who: a rootless zone runs the image's process as its root (said).
  if (flags.user === undefined) for (const w of image.warnings) process.stderr.write(`lxzone: warning: ${w}\n`);
  return { image, runtimeDir: store.runtimeDir, release: await store.useForRun(image.record.digest, `image ${flags.image}`) };
}

/** `run --name`: the zone is created and kept (src/zone/lifecycle/run-named.ts). */
async function runNamedFromFlags(name: string, command: string[], flags: RunFlags): Promise<number> {
  for (const f of ['tty', 'trace', 'traceOutput', 'stats', 'json'] as const) {
    if (flags[f] !== undefined && flags[f] !== false) {
      throw new LxzoneError(`--name: the zone runs under the daemon, so --${f.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} cannot apply (use lxzone exec -it NAME for a terminal)`, { exitCode: 2 });
    }
  }
  if (flags.image !== undefined) throw new LxzoneError('--image with --name: use lxzone create --image, then boot', { exitCode: 2 });
  // Loaded here: the daemon's client and the named-zone lifecycle are not a one-shot run's.
  const { runNamed } = await import('../zone/lifecycle/run-named.js');
  return runNamed({ name, command, flags, resources: requestedResources(parseResourceFlags(flags)) }, {
    stdout: (b) => process.stdout.write(b),
    stderr: (b) => process.stderr.write(b),
  });
}

export function register(program: Command): void {
  const cmd = program
    .command('run')
    .description('run a command in a new zone (removed when it exits)')
    .argument('[command...]', "the binary and its arguments (options end at it); with --image, the image's Cmd by default")
    .passThroughOptions();
  addZoneOptions(cmd, 'run')
    .option('-t, --tty', 'give the binary a pseudo-terminal of the zone (the default when stdin and stdout are terminals)')
    .option('--no-tty', 'no pseudo-terminal, even on a terminal: the zone reads and writes our stdio')
    .option('-i, --interactive', 'keep stdin open (always the case; accepted for docker compatibility)')
    .option('--trace [syscalls]', 'print the syscalls the zone makes (all, or a comma-separated list), strace style')
    .option('--trace-output <file>', 'write trace lines to a file instead of stderr')
    .option('--stats', 'print the counters of notified syscalls at exit (stderr)')
    .option('--json', 'print the result (exit code, stats) as JSON on stdout at exit')
    .option('--name <name>', 'keep the zone as NAME, run by the daemon: output shown until it stops (lxzone boot NAME runs it again)');
  addResourceOptions(cmd).action(async (command: string[], flags: RunFlags, self: Command) => {
      if (flags.name !== undefined) {
        process.exitCode = await runNamedFromFlags(flags.name, command, flags);
        return;
      }
      const used = flags.image !== undefined ? await imageForRun(flags) : undefined;
      const image = used?.image;
      let releaseImage = used?.release ?? (() => undefined);
      if (!image && command.length === 0) throw new LxzoneError('run: give the command to run (after --), or --image', { exitCode: 2 });
      const spec = zoneSpecFromFlags(flags, command, requestedResources(parseResourceFlags(flags)), image);
      if (used) {
        // The image's Volumes: directories of this run's own, seeded from the image, removed at its end (a -v at the same path wins).
        const [{ runVolumes }, { byDepth }] = await Promise.all([import('../zone/image/store/run-volumes.js'), import('../zone/volumes/mounts.js')]);
        const own = spec.binds ?? [];
        const vols = runVolumes(used.runtimeDir, used.image.config.volumes, used.image.layers, `image ${flags.image}`, own.map((b) => b.zone));
        spec.binds = byDepth([...vols.binds, ...own]);
        const release = releaseImage;
        releaseImage = () => {
          vols.remove();
          release();
        };
      }
      let traceFile: WriteStream | undefined;
      const trace = traceRules(flags.trace, spec.profile ?? 'default');
      if (flags.traceOutput) traceFile = openTraceOutput(flags.traceOutput);
      const onTrace = flags.trace !== undefined
        ? (line: string) => (traceFile ? traceFile.write(`${line}\n`) : process.stderr.write(`${line}\n`))
        : undefined;

      const opts: RunOptions = {
        ...spec,
        // On a terminal the zone gets a terminal of its own, never ours.
        tty: flags.tty ?? (isTerminal(0) && isTerminal(1)),
        onTrace,
        ...trace,
      };

      // The native front end found no description of this plain run: write it
      // for the next (docs/parts/fast-run.md); loaded only when asked.
      if (process.env.LXZONE_LAUNCH_FLAGS !== undefined) {
        const { writeLaunchDescriptionIfAsked } = await import('./launch-description.js');
        // This module made the options: its code (and what it imports) is what planned the zone.
        writeLaunchDescriptionIfAsked(flags as unknown as Record<string, unknown>, (k) => self.getOptionValueSource(k), opts, import.meta.url);
      }

      // Relay signals to the zone for as long as it runs; one that arrives
      // while a restart backs off ends the series.
      let run: Awaited<ReturnType<typeof startOneShot>>;
      try {
        run = await startOneShot(opts);
      } catch (e) {
        releaseImage();
        throw e;
      }
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
        releaseImage();
        for (const s of signals) process.off(s, relay);
        traceFile?.end();
      }
    });
}
