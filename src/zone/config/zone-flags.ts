// The zone flags of `lxzone run` and `lxzone create`, declared once: each
// flag's spelling, help, the verbs that take it, and the one place its value
// becomes part of a zone — a ZoneSpec field for a one-shot run
// (zoneSpecFromFlags), a ZoneConfig field for a stored zone (create and
// `run --name`: zoneConfigFromFlags). src/cli/zone-options.ts turns the
// declarations into commander options. No defaults are declared: a flag the
// user did not give is absent, so a named zone takes its config's defaults
// and a one-shot zone the spec's (named in the help text).
import { LxzoneError } from '../../errors.js';
import { limitsOf } from '../cgroups/limits.js';
import type { ImageConfig } from '../image/manifests.js';
import type { ZoneImage } from '../image/store/zone-image.js';
import type { ZoneSpec } from '../spec.js';
import { applyZoneFlags, parseEnvFlags, parseUserFlag, parseVolumeFlag, isVolumeFlag } from './flags.js';
import type { ImageFormatName, NetworkConfig, ResourcesConfig, ZoneConfig } from './types.js';
import { resolveUser } from './user.js';

export type ZoneVerb = 'run' | 'create';

/** The zone flags' values as commander gives them: only what the user typed (plus [] for repeatables, true for init). */
export interface ZoneFlagValues {
  rootfs?: string;
  root?: 'ro' | 'cow';
  image?: string;
  imageFormat?: ImageFormatName;
  ref?: string;
  hostname?: string;
  kernelVersion?: string;
  kernelVersionEnv?: boolean;
  profile?: string;
  env: string[];
  volume: string[];
  tmpfs?: string[];
  workdir?: string;
  user?: string;
  /** false with --no-init. */
  init: boolean;
  network?: NetworkConfig['mode'];
  ip?: string;
  /** --nat: the zone reaches the outside through NAT. */
  nat?: boolean;
  /** --publish HOSTPORT:ZONEPORT (repeatable). */
  publish?: string[];
  restart?: string;
}

export interface ZoneFlag {
  /** commander's spelling. */
  option: string;
  /** Help, the same on every verb or per verb. */
  help: string | Record<ZoneVerb, string>;
  verbs: readonly ZoneVerb[];
  choices?: readonly string[];
  /** Repeatable: values collect into an array. */
  repeatable?: boolean;
}

const both = ['run', 'create'] as const;

export const ZONE_FLAGS: readonly ZoneFlag[] = [
  { option: '--rootfs <dir>', verbs: both, help: { run: "a directory to use as the zone's root (default: the host's root, read-only)", create: "a directory to use as the zone's root (read-only)" } },
  {
    option: '--root <mode>',
    verbs: both,
    choices: ['ro', 'cow'],
    help: {
      run: "the host's root read-only (default), or copy-on-write (writes kept in the zone, never on the host; discarded when a one-shot zone ends)",
      create: "the host's root read-only (default), or copy-on-write: writes kept on the zone's disk, never on the host",
    },
  },
  {
    option: '--image <image>',
    verbs: both,
    help: {
      run: "run an image of the image store (pulled first if missing): its layers shared, the zone's writes on a tmpfs; its Env, Cmd, Entrypoint, WorkingDir and User applied",
      create: 'an image of the image store (pulled first if missing; its layers shared), or an archive: rootfs tar, docker save or OCI layout (unpacked now)',
    },
  },
  { option: '--image-format <format>', verbs: ['create'], choices: ['auto', 'rootfs', 'docker', 'oci'], help: 'the image format' },
  { option: '--ref <ref>', verbs: ['create'], help: 'which image of a multi-image archive' },
  { option: '--hostname <name>', verbs: both, help: { run: "the zone's hostname (default: lxzone)", create: "the zone's hostname (default: its name)" } },
  { option: '--kernel-version <release>', verbs: both, help: 'the kernel release uname(2) reports in the zone' },
  { option: '--kernel-version-env', verbs: ['run'], help: 'let a process pick its own release with LXZONE_KERNEL_VERSION in its environment' },
  { option: '--profile <name>', verbs: both, help: { run: 'the syscall profile (default, strict, permissive, trace; default: default)', create: 'the syscall profile' } },
  { option: '-e, --env <KEY=VALUE>', verbs: both, repeatable: true, help: 'set an environment variable (repeatable)' },
  { option: '-v, --volume <host:zone[:ro]>', verbs: both, repeatable: true, help: 'bind a host path into the zone, or NAME:ZONE a volume (lxzone volume; made if missing; create and run --name) (repeatable)' },
  { option: '--tmpfs <path[:size=..,mode=..]>', verbs: ['create'], repeatable: true, help: 'a tmpfs in the zone (repeatable)' },
  { option: '-w, --workdir <dir>', verbs: both, help: { run: 'working directory in the zone (default: /)', create: 'working directory in the zone' } },
  { option: '-u, --user <uid[:gid]|name[:group]>', verbs: both, help: { run: 'run as this user of the zone', create: 'the user the zone runs as' } },
  { option: '--no-init', verbs: both, help: { run: 'run the binary itself as pid 1 (no reaper)', create: 'run the command itself as pid 1 (no reaper)' } },
  {
    option: '--network <mode>',
    verbs: both,
    choices: ['none', 'loopback', 'zone'],
    help: { run: 'zone network (default: loopback)', create: 'zone network (default: zone as root, loopback otherwise)' },
  },
  { option: '--ip <address>', verbs: ['create'], help: 'a static IPv4 address on the zone network' },
  { option: '--nat', verbs: both, help: 'let the zone reach the outside through NAT as the host (zone network; run: with --name)' },
  {
    option: '--publish <[hostip:]hostport:zoneport[/tcp|udp]>',
    verbs: both,
    repeatable: true,
    help: 'forward a host port to the zone (zone network; run: with --name; repeatable)',
  },
  { option: '--restart <policy>', verbs: ['create'], help: 'no, on-failure[:N], always or unless-stopped' },
];

/**
 * A stored zone's configuration from its flags (create, `run --name`), over
 * `base` (a --config file's, or just the name). Validated later by
 * parseZoneConfig like any configuration. Paths are taken as given: create
 * resolves relative ones first.
 */
export function zoneConfigFromFlags(
  base: Partial<ZoneConfig>,
  f: ZoneFlagValues,
  command: string[],
  resources: ResourcesConfig,
  /** --image named an image of the image store (create pulled it): its reference and manifest digest. */
  stored?: { ref: string; digest: string },
): Partial<ZoneConfig> {
  if (f.rootfs && f.image) throw new LxzoneError('--rootfs and --image exclude each other', { exitCode: 2 });
  if (f.root === 'cow' && (f.rootfs || f.image)) throw new LxzoneError("--root cow is for the host's root; it excludes --rootfs and --image", { exitCode: 2 });
  const cfg = applyZoneFlags(base, { env: f.env, volume: f.volume, tmpfs: f.tmpfs, user: f.user, workdir: f.workdir, hostname: f.hostname, restart: f.restart });
  if (f.rootfs) cfg.rootfs = { type: 'dir', path: f.rootfs };
  else if (stored) cfg.rootfs = { type: 'store', ref: stored.ref, digest: stored.digest };
  else if (f.image) cfg.rootfs = { type: 'image', path: f.image, ...(f.imageFormat ? { format: f.imageFormat } : {}), ...(f.ref ? { ref: f.ref } : {}) };
  else if (f.root === 'cow') cfg.rootfs = { type: 'host', copyOnWrite: true };
  else cfg.rootfs ??= { type: 'host' };
  if (f.kernelVersion) cfg.kernelVersion = f.kernelVersion;
  if (f.profile) cfg.profile = f.profile;
  if (!f.init) cfg.init = false;
  if (command.length) cfg.command = command;
  if (f.network || f.ip || f.nat || f.publish?.length) {
    cfg.network = {
      ...(cfg.network ?? { mode: 'zone' }),
      ...(f.network ? { mode: f.network } : {}),
      ...(f.ip ? { address: f.ip } : {}),
      ...(f.nat ? { nat: true } : {}),
      ...(f.publish?.length ? { ports: f.publish } : {}),
    };
  }
  if (Object.keys(resources).length) cfg.resources = { ...(cfg.resources ?? {}), ...resources };
  return cfg;
}

/** Docker's rule: the command given replaces Cmd, and follows the Entrypoint. */
export function imageArgv(config: ImageConfig, command: string[]): string[] {
  const argv = [...(config.entrypoint ?? []), ...(command.length > 0 ? command : (config.cmd ?? []))];
  if (argv.length === 0) throw new LxzoneError('the image declares no Entrypoint or Cmd: give the command to run (after --)', { exitCode: 2 });
  return argv;
}

/**
 * A one-shot zone from its flags (`lxzone run`), over what its image (`run
 * --image`, from the image store) declares. The user is looked up in the
 * zone's root (the image's layers, the --rootfs given, else the host's);
 * paths are checked on the route (shim-plan.ts), host paths of binds by the
 * shim.
 */
export function zoneSpecFromFlags(f: ZoneFlagValues, command: string[], resources: ResourcesConfig, image?: ZoneImage): ZoneSpec {
  if (f.nat || f.publish?.length) {
    throw new LxzoneError('--nat and --publish need a zone network, which a one-shot run does not have: use run --name NAME, or create', { exitCode: 2 });
  }
  const spec: ZoneSpec = {
    argv: image ? imageArgv(image.config, command) : command,
    ...(f.rootfs !== undefined ? { rootfs: f.rootfs } : {}),
    ...(f.root === 'cow' ? { rootCow: {} } : {}),
    ...(image ? { rootCow: { layers: image.layers } } : {}),
    hostname: f.hostname ?? 'lxzone',
    ...(f.kernelVersion !== undefined ? { kernelVersion: f.kernelVersion } : {}),
    ...(f.kernelVersionEnv ? { kernelVersionEnv: true } : {}),
    profile: f.profile ?? 'default',
    env: { ...(image?.config.env ?? {}), ...parseEnvFlags(f.env) },
    binds: f.volume.map((v) => {
      if (isVolumeFlag(v)) throw new LxzoneError(`option -v ${JSON.stringify(v)}: a volume needs a named zone (create, or run --name), which it is not removed from under`, { exitCode: 2 });
      return parseVolumeFlag(v);
    }),
    cwd: f.workdir ?? image?.config.workingDir ?? '/',
    init: f.init,
    network: f.network ?? 'loopback',
    limits: limitsOf(resources),
  };
  const user = f.user !== undefined ? parseUserFlag(f.user) : image?.config.user;
  if (user !== undefined) {
    const u = resolveUser(user, image ? image.readFile : (f.rootfs ?? '/'));
    spec.uid = u.uid;
    spec.gid = u.gid;
  }
  return spec;
}
