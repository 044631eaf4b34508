// The middle of the one route (spec.ts): a ZoneSpec and its hosting become
// what lxzone-shim and the supervisor are given — checked, the policy
// compiled, the zone's host id range chosen, the shim's config encoded.
// Nothing runs here; a throw leaves nothing behind (a claimed id range is
// released before it propagates).
import { existsSync, realpathSync, statSync } from 'node:fs';
import { LxzoneError } from '../errors.js';
import type { AttachOptions } from '../native.js';
import { compilePolicy, type CompileInput, type CompiledPolicy } from '../policy/compile.js';
import { utsServerFilter } from '../policy/uts-server-filter.js';
import { hostAbis } from '../tables/index.js';
import { hasCaps } from './cgroups/limits.js';
import { checkRootCow, cowMasks, DEFAULT_COW_TMPFS_BYTES } from './cow-root.js';
import { lxzoneHostDirs, zonePathsToHide } from './hidden-paths.js';
import { claimTransientIdRange, defaultIdBase, slotLayout, transientClaimDir, type IdClaim } from './ids.js';
import { encodeShimConfig, SLOT, type ShimConfig, type Slot } from './shim-config.js';
import type { RunOptions, ZoneSpec } from './spec.js';
import { assertZoneRangeDelegated, lxzoneDelegation, zoneIdCount } from './subids.js';
import { supervisorOptions } from './supervisor.js';
import { zoneRlimits } from './zone-rlimits.js';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
export const DEFAULT_ID_BASE = 100000;
export const ZONE_ID_COUNT = 65536;
/** The first of the shim's fds that --preserve-fds hands on (3-5 are its config, filter and control fds: run.ts). */
export const SHIM_FIRST_PRESERVED_FD = 6;

export interface ZonePlan {
  /** The filter for the shim's seccomp fd. */
  bpf: Buffer;
  /** The encoded config for the shim's config fd. */
  config: Buffer;
  /** What the supervisor serves the zone with (the same on a re-attach). */
  attachOptions: AttachOptions;
  /** The host id range this run holds, released when the zone has ended. */
  idClaim?: IdClaim;
}

export function isRootless(): boolean {
  return process.getuid?.() !== 0;
}

/** `term`: the host's TERM, or a launch description's slot for it (filled per run). */
function defaultEnv(spec: ZoneSpec, hostname: string, term: string | undefined | Slot = process.env.TERM): string[] {
  const env: Record<string, string> = { PATH: DEFAULT_PATH, HOME: spec.uid ? '/' : '/root', HOSTNAME: hostname, container: 'lxzone' };
  if (term) env.TERM = term;
  Object.assign(env, spec.env ?? {});
  return Object.entries(env).map(([k, v]) => (v === SLOT && k === 'TERM' ? `${SLOT}TERM` : `${k}=${v}`));
}

/** What can be refused before anything is made, with the flag's name and lxzone's exit codes. */
function checkOptions(opts: RunOptions): void {
  if (!opts.argv.length || opts.argv[0] === '') throw new LxzoneError('nothing to run: give a command after --', { exitCode: 2 });
  if (opts.rootfs !== undefined) {
    if (!opts.rootfs.startsWith('/')) throw new LxzoneError(`--rootfs ${opts.rootfs}: must be an absolute path`, { exitCode: 2 });
    if (!existsSync(opts.rootfs)) throw new LxzoneError(`--rootfs ${opts.rootfs}: no such directory`, { exitCode: 125, code: 'ENOENT' });
    if (!statSync(opts.rootfs).isDirectory()) throw new LxzoneError(`--rootfs ${opts.rootfs}: not a directory`, { exitCode: 125, code: 'ENOTDIR' });
    // Whoever can change a link on the way chooses the zone's root: refuse it
    // (the shim refuses it too, opening the path with no symlink allowed).
    const real = realpathSync(opts.rootfs);
    if (real !== opts.rootfs.replace(/\/+$/, '') && opts.rootfs !== '/') {
      throw new LxzoneError(`--rootfs ${opts.rootfs}: goes through a symlink (it resolves to ${real}); give the real path`, { exitCode: 125, code: 'ELOOP' });
    }
  }
  checkRootCow(opts, isRootless());
  if (opts.hostname !== undefined && !/^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$/.test(opts.hostname) || (opts.hostname?.length ?? 0) > 64) {
    throw new LxzoneError(`hostname ${JSON.stringify(opts.hostname)}: must be letters, digits, '-' and '.' (RFC 1123), at most 64 bytes`, { exitCode: 2, code: 'EINVAL' });
  }
  if (isRootless()) {
    // The caller's own uid is the zone's only id; bridges and cgroups need root.
    if (opts.network === 'zone') throw new LxzoneError('a zone network needs root: run as root, or use --network loopback|none', { exitCode: 125, code: 'EPERM' });
    if (opts.cgroupProcs?.length || hasCaps(opts.limits)) throw new LxzoneError('resource caps (cgroups) need root on this host', { exitCode: 125, code: 'EPERM' });
    if (opts.uid || opts.gid) throw new LxzoneError('a rootless zone has one user (root, which is you); --user needs root', { exitCode: 125, code: 'EPERM' });
  }
  // Caps nobody enforces would be a lie: the host that makes the cgroup passes it.
  if (hasCaps(opts.limits) && !opts.cgroupProcs?.length && opts.joinPid === undefined) {
    throw new LxzoneError('resource caps need a cgroup for the zone: start it with runZone/startOneShot (a cgroup of its own) or give cgroupProcs', { exitCode: 125, code: 'EINVAL' });
  }
}

// Compiling a profile takes milliseconds and its result depends only on the
// input and the tables, so a process keeps what it compiled (profiles named
// here are files read once; a Profile object is keyed by its JSON).
const policyCache = new Map<string, CompiledPolicy>();
function compiledPolicy(input: CompileInput): CompiledPolicy {
  const key = JSON.stringify(input);
  let hit = policyCache.get(key);
  if (!hit) {
    hit = compilePolicy(input, { userCache: true });
    if (policyCache.size > 64) policyCache.clear();
    policyCache.set(key, hit);
  }
  return hit;
}

/**
 * A zone on a read-only root gets a host id range of its own for as long as
 * it runs; a writable root (an unpacked image) owns files under the range it
 * was unpacked for, which the caller passes (or the default).
 */
function chooseIds(opts: RunOptions): { idBase: number; idClaim?: IdClaim } {
  const idClaim = claimsIdRange(opts) ? claimTransientIdRange() : undefined;
  try {
    const idBase = opts.idBase ?? idClaim?.idBase ?? (isRootless() ? DEFAULT_ID_BASE : defaultIdBase());
    // Every root zone's range: inside lxzone's delegation, no other owner's subordinate ids in it.
    if (!isRootless() && opts.joinPid === undefined) assertZoneRangeDelegated(idBase, zoneIdCount());
    return { idBase, ...(idClaim ? { idClaim } : {}) };
  } catch (err) {
    idClaim?.release();
    throw err;
  }
}

/** The compiled policy of a zone (cached per process: compiledPolicy). */
function policyOf(opts: RunOptions): CompiledPolicy {
  return compiledPolicy({
    profile: opts.profile ?? 'default',
    abis: hostAbis(),
    extraRules: opts.extraRules,
    ...(opts.seccomp ? { restrict: opts.seccomp } : {}),
    allowNesting: opts.allowNesting,
  });
}

export function planZone(opts: RunOptions): ZonePlan {
  return finishPlan(opts, checkPlan(opts));
}

/**
 * The part of planZone that a caller's input can be refused in: the options
 * checked and the policy compiled. startZone does this before it starts the
 * shim and finishPlan while the shim starts (run.ts).
 */
export function checkPlan(opts: RunOptions): CompiledPolicy {
  checkOptions(opts);
  return policyOf(opts);
}

/**
 * The rest of planZone, given checkPlan's policy: the host id range claimed,
 * the supervisor's options and the shim's config. It refuses only what
 * checkOptions cannot see (a NUL byte in a value, no free id range).
 */
export function finishPlan(opts: RunOptions, policy: CompiledPolicy): ZonePlan {
  const hostname = opts.hostname ?? 'lxzone';
  const { idBase, idClaim } = chooseIds(opts);
  const attachOptions = supervisorOptions(hostAbis(), policy.dispatch, opts);
  try {
    const config = encodeShimConfig(shimConfigOf(opts, { argv: opts.argv, env: defaultEnv(opts, hostname), idBase, tty: opts.tty, attachOptions }));
    return { bpf: policy.bpf, config, attachOptions, ...(idClaim ? { idClaim } : {}) };
  } catch (err) {
    idClaim?.release();
    throw err;
  }
}

/** Whether a zone started with these options claims a one-shot host id range (chooseIds). */
function claimsIdRange(opts: RunOptions): boolean {
  return opts.idBase === undefined && !opts.rootfsWritable && !isRootless() && opts.joinPid === undefined;
}

/** A launch description's plan (src/cli/launch-description.ts): planZone's, with argv, TERM, tty and a claimed id base left as slots. */
export interface LaunchTemplate {
  bpf: Buffer;
  /** The shim config with slots (docs/parts/fast-run.md). */
  config: Buffer;
  attachOptions: AttachOptions;
  /** Where a run claims its one-shot id range; undefined: the config's id base is fixed. */
  idClaim?: { dir: string; slots: { first: number; count: number }; rangeStart: number; rangeCount: number };
}

/**
 * planZone for a run whose argv, TERM, terminal and one-shot id range are
 * only known per run: what the native front end fills in (docs/parts/fast-run.md).
 * Throws where planZone would; claims nothing.
 */
export function planLaunchTemplate(opts: RunOptions): LaunchTemplate {
  checkOptions(opts);
  const policy = policyOf(opts);
  const hostname = opts.hostname ?? 'lxzone';
  const attachOptions = supervisorOptions(hostAbis(), policy.dispatch, opts);
  let idBase: number | Slot;
  let idClaim: LaunchTemplate['idClaim'];
  if (claimsIdRange(opts)) {
    const { transient } = slotLayout();
    const rangeStart = lxzoneDelegation().start;
    const rangeCount = zoneIdCount();
    // Every slot a run may claim: inside the delegation, no other owner's ids in it (chooseIds checks the one it claims).
    assertZoneRangeDelegated(rangeStart + transient.first * rangeCount, transient.count * rangeCount);
    idBase = SLOT;
    idClaim = { dir: transientClaimDir(), slots: transient, rangeStart, rangeCount };
  } else {
    idBase = chooseIds(opts).idBase;
  }
  const config = encodeShimConfig(shimConfigOf(opts, { argv: [SLOT], env: defaultEnv(opts, hostname, SLOT), idBase, tty: SLOT, attachOptions }));
  return { bpf: policy.bpf, config, attachOptions, ...(idClaim ? { idClaim } : {}) };
}

/** The shim's config of a zone, given what planZone and planLaunchTemplate choose differently. */
function shimConfigOf(
  opts: RunOptions,
  per: { argv: string[]; env: string[]; idBase: number | Slot; tty: boolean | Slot | undefined; attachOptions: AttachOptions },
): ShimConfig {
  const hostname = opts.hostname ?? 'lxzone';
  return {
    argv: per.argv,
    env: per.env,
    rootfs: opts.rootfs,
    rootfsWritable: opts.rootfsWritable,
    ...(opts.rootfsIdMap ? { rootfsIdMap: true } : {}),
    ...(opts.rootCow
      ? {
          rootCow: {
            ...(opts.rootCow.dir ? { dir: opts.rootCow.dir } : {}),
            size: `${Math.max(1, Math.ceil((opts.rootCow.sizeBytes ?? DEFAULT_COW_TMPFS_BYTES) / 1024))}k`,
            ...(opts.rootCow.layers ? { layers: opts.rootCow.layers } : {}),
          },
        }
      : {}),
    // The host's secrets are masked where the host's root shows; an image's root holds none.
    masks: [...(opts.rootCow && !opts.rootCow.layers ? cowMasks() : []), ...(opts.masks ?? [])],
    ...(opts.readonlyPaths?.length ? { readonly: opts.readonlyPaths } : {}),
    hostname,
    cwd: opts.cwd ?? '/',
    idBase: per.idBase,
    idCount: isRootless() ? ZONE_ID_COUNT : zoneIdCount(),
    uid: opts.uid ?? 0,
    gid: opts.gid ?? 0,
    init: opts.init ?? true,
    hold: opts.onCreated !== undefined,
    dieWithParent: !opts.detached,
    reattachSocket: opts.reattachSocket,
    reattachTimeoutSeconds: opts.reattachTimeoutSeconds,
    network: opts.network ?? 'loopback',
    tmpSize: opts.tmpSize,
    binds: opts.binds ?? [],
    procBinds: opts.procBinds ?? [],
    tmpfs: opts.tmpfs ?? [],
    // exec joins a zone whose mounts are made: nothing to hide then.
    hide: opts.joinPid === undefined ? zonePathsToHide(lxzoneHostDirs(opts.hiddenHostDirs), opts.rootfs, opts.binds ?? []) : [],
    tty: per.tty,
    system: opts.system,
    joinPid: opts.joinPid,
    startFifo: opts.startFifo,
    rlimits: zoneRlimits(opts),
    ...(opts.capabilities ? { capabilities: opts.capabilities } : {}),
    ...(opts.umask !== undefined ? { umask: opts.umask } : {}),
    ...(opts.groups?.length ? { groups: opts.groups } : {}),
    ...(opts.sysctls?.length ? { sysctls: opts.sysctls } : {}),
    // The launcher passes them to the shim right after its own three fds (run.ts).
    ...(opts.preserveFds?.length ? { preserveFds: opts.preserveFds.map((_, i) => SHIM_FIRST_PRESERVED_FD + i) } : {}),
    ...(opts.keeperInZoneNetns ? { keeperInZoneNetns: true } : {}),
    ...(opts.joinNamespaces ? { joinNamespaces: opts.joinNamespaces } : {}),
    ...(opts.joinUsernsPid !== undefined ? { joinUsernsPid: opts.joinUsernsPid } : {}),
    ...(opts.exitAfterParent ? { exitAfterParent: true } : {}),
    cgroupProcs: opts.cgroupProcs,
    // A keeper that a supervisor can come back to serves the zone itself meanwhile.
    // A new zone's keeper starts lxzone-utsfs (exec joins a zone that has one).
    ...(opts.joinPid === undefined ? { utsServerFilter: utsServerFilter() } : {}),
    ...(opts.reattachSocket ? { serve: per.attachOptions } : {}),
    relayStdio: opts.relayStdio,
    logs: opts.logFiles,
  };
}
