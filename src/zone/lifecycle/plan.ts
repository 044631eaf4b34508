// From a stored configuration to its ZoneSpec (src/zone/spec.ts), the named
// zone's entry into the one route to the shim: the rootfs prepared
// (an image unpacked if it is not yet), host paths re-checked (they may have
// changed since create), the process (image defaults merged), the user
// resolved in the zone's own /etc/passwd, the extra rules validated, and the
// supervisor's attach options for a later re-attach.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LxzoneError } from '../../errors.js';
import { compilePolicy } from '../../policy/compile.js';
import { importDockerProfile } from '../../policy/docker.js';
import { validateExtraRules } from '../../policy/load.js';
import type { Profile, SyscallRules } from '../../policy/types.js';
import type { AttachOptions } from '../../native.js';
import { hostAbis } from '../../tables/index.js';
import { checkHostPaths } from '../config/host-paths.js';
import type { BindMount, ZoneConfig } from '../config/types.js';
import { resolveUser } from '../config/user.js';
import { prepareZoneRootfs, zoneProcess, type PreparedRootfs, type ZoneProcess } from '../image/prepare.js';
import { ensureVolumes, volumePaths } from '../image/store/volumes.js';
import { VolumeStore } from '../volumes/store.js';
import { byDepth, volumeBinds } from '../volumes/mounts.js';
import { zoneIdCount } from '../subids.js';
import { limitsOf } from '../cgroups/limits.js';
import { DEFAULT_ID_BASE } from '../shim-plan.js';
import type { ZoneHosting, ZoneSpec } from '../spec.js';
import type { ZoneStore } from '../state/store.js';
import { supervisorOptions, type SupervisedZone } from '../supervisor.js';
import { DEFAULT_BRIDGE_NETWORK, networkMode } from './host-setup.js';
import { NetworkStore } from '../network/networks.js';
import { writeHostResolvConf } from '../network/host-resolv.js';
import { ensureZoneIds } from '../ids.js';
import { isRoot } from './options.js';
import { SYSTEM_ZONE_RULES, systemZoneProcess } from './system-zone.js';

export interface BootPlan {
  /** What the zone is. */
  spec: ZoneSpec;
  /** What its configuration says of its hosting (the daemon adds the rest). */
  hosting: Pick<ZoneHosting, 'tty' | 'hiddenHostDirs'>;
  /** What a restarted daemon needs to serve the zone again (kept in the runtime record). */
  attach: AttachRecord;
  warnings: string[];
}

/**
 * The supervisor's view of a zone, as stored in its runtime record: fields of
 * its ZoneSpec and ZoneHosting, by their names, so that a re-attach
 * (attachOptionsOf) and exec (exec.ts) take them as they are.
 */
export interface AttachRecord extends SupervisedZone {
  hostname: string;
  profile: string;
  extraRules: SyscallRules[];
  /** The config's seccomp, imported: exec'd processes get the same filter, a re-attach the same dispatch. */
  seccomp?: Profile;
  idBase: number;
}

/** The record of a spec planned here (its memory cap: the configured one, which the cgroup enforces). */
function attachRecordOf(spec: ZoneSpec & AttachRecord, memoryLimit: number | undefined): AttachRecord {
  const { hostname, kernelVersion, kernelVersionEnv, profile, extraRules, seccomp, idBase } = spec;
  return {
    hostname,
    profile,
    extraRules,
    ...(seccomp ? { seccomp } : {}),
    idBase,
    ...(kernelVersion !== undefined ? { kernelVersion } : {}),
    ...(kernelVersionEnv !== undefined ? { kernelVersionEnv } : {}),
    ...(memoryLimit !== undefined ? { memoryLimit } : {}),
  };
}

function bootError(name: string, e: unknown): LxzoneError {
  const err = e as LxzoneError;
  return new LxzoneError(`cannot boot zone ${name}: ${err.message}`, {
    code: err.code,
    errno: err.errno,
    where: err.where,
    exitCode: 1,
    cause: e,
  });
}

/**
 * The config's Docker seccomp profile in lxzone's language, imported again at
 * each boot (its includes.minKernel are decided for the kernel booted on);
 * capabilities: Docker's default set, which a Docker container has. What the
 * importer reports it could not carry over exactly is not an error here: it
 * never makes the zone less strict (src/policy/docker.ts).
 */
export function importedSeccomp(cfg: ZoneConfig): Profile | undefined {
  if (!cfg.seccomp) return undefined;
  try {
    return importDockerProfile(cfg.seccomp, { name: 'docker-seccomp', file: 'seccomp profile' }).profile;
  } catch (e) {
    throw new LxzoneError(`zone config "${cfg.name}": field "seccomp": ${(e as Error).message}`, { code: 'EINVAL', where: 'seccomp', cause: e });
  }
}

/** Extra rules of a config, checked by the policy module (and compiled once, so a rule that cannot compile is refused). */
export function checkPolicy(cfg: ZoneConfig): SyscallRules[] {
  const label = `zone config "${cfg.name}": field "extraRules"`;
  const rules = validateExtraRules(cfg.extraRules, label);
  const seccomp = importedSeccomp(cfg);
  try {
    compilePolicy({ profile: cfg.profile, abis: hostAbis(), extraRules: rules, ...(seccomp ? { restrict: seccomp } : {}) }, { userCache: true });
  } catch (e) {
    throw new LxzoneError(`zone config "${cfg.name}": profile "${cfg.profile}" with its extra rules: ${(e as Error).message}`, {
      code: 'EINVAL',
      where: 'extraRules',
      cause: e,
    });
  }
  return rules;
}

/** A copy-on-write zone's layers are on its disk, which only root can mount. */
function cowDir(store: ZoneStore, cfg: ZoneConfig, rootfsDir: string | undefined): string {
  if (rootfsDir) return rootfsDir;
  // Rootless (no loop-mounted disk without root): an image store zone's
  // upper layer is in the zone's state directory, the user's own.
  if (!isRoot() && cfg.rootfs.type === 'store') {
    const dir = join(store.paths(cfg.name).zoneDir, 'cow');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
  }
  throw new LxzoneError(`zone ${cfg.name}: a copy-on-write root needs root (its layers live on a disk image of the zone's)`, { code: 'EPERM' });
}

/**
 * An image store zone's Volumes: a directory each next to its upper layer
 * (src/zone/image/store/volumes.ts): on the zone's disk as root; rootless
 * (no disk) in the zone's state directory, the caller's, beside cow/, its
 * files the caller's own (the zone's one id). A bind of the zone's own (or
 * a named volume) at the same path wins, as `docker run -v` over a VOLUME.
 */
function imageVolumes(store: ZoneStore, cfg: ZoneConfig, prepared: PreparedRootfs, rootfsDir: string | undefined, idBase: number | undefined): BindMount[] {
  if (!prepared.layers || cfg.rootfs.type !== 'store') return [];
  const dir = zoneVolumesDir(store, cfg.name, rootfsDir);
  if (dir === undefined || (isRoot() && idBase === undefined)) return [];
  const paths = volumePaths(prepared.image?.volumes, `image ${cfg.rootfs.ref}`).filter((p) => !cfg.binds.some((b) => b.zone === p) && !cfg.volumes?.some((v) => v.zone === p));
  return ensureVolumes(paths, prepared.layers, dir, isRoot() ? { idBase: idBase!, count: zoneIdCount() } : null);
}

/** Where a store zone's volumes are: beside its upper layer (`rootfsDir`, on its disk) as root, in its state directory rootless. */
export function zoneVolumesDir(store: ZoneStore, name: string, rootfsDir: string | undefined): string | undefined {
  if (rootfsDir !== undefined) return join(dirname(rootfsDir), 'volumes');
  return isRoot() ? undefined : join(store.paths(name).zoneDir, 'volumes');
}

/** The zone's own resolv.conf on the host (in its state directory: gone with the zone). */
export const zoneResolvConfPath = (store: ZoneStore, name: string): string => join(store.paths(name).zoneDir, 'resolv.conf');

/**
 * The zone's own resolv.conf, written (in place) for `cfg`'s networks, when it has one: a zone on a
 * user-defined network resolves through that network's DNS server (src/daemon/dns/; dnsNetworkOf), at the
 * gateway (IPv4 and IPv6); a zone with `network.resolvConf: 'host'` (Docker containers) off user-defined
 * networks gets the host's nameservers less the loopback ones, as dockerd. The file is the zone's own
 * (its state directory), so that a change of networks while it runs rewrites it (network-change.ts).
 * A bind of the zone's own at /etc/resolv.conf wins; rootless zones have none. Its path, or undefined.
 */
export function writeZoneResolvConf(store: ZoneStore, cfg: ZoneConfig, own = ownsResolvConf(cfg)): string | undefined {
  if (!own) return undefined;
  const net = dnsNetworkOf(cfg);
  const path = zoneResolvConfPath(store, cfg.name);
  return net !== undefined ? new NetworkStore(join(store.stateDir, 'network')).writeZoneResolvConf(path, net) : writeHostResolvConf(path);
}

/** The zone has a resolv.conf of lxzone's (writeZoneResolvConf) with `cfg`. `own` above: it had one at boot (a zone that left its last user-defined network keeps it, with the host's nameservers). */
export function ownsResolvConf(cfg: ZoneConfig): boolean {
  if (!isRoot() || cfg.binds.some((b) => b.zone === '/etc/resolv.conf')) return false;
  return dnsNetworkOf(cfg) !== undefined || cfg.network?.resolvConf === 'host';
}

/**
 * The user-defined network whose DNS server the zone asks: its first network, else its first further one
 * that is user-defined (a default-bridge container that joins one resolves its names there, as with dockerd,
 * whose resolver serves a container once it is on a user-defined network). That server answers it the names
 * of all its networks (src/daemon/dns/service.ts).
 */
export function dnsNetworkOf(cfg: ZoneConfig): string | undefined {
  if (networkMode(cfg) !== 'zone') return undefined;
  return cfg.network?.userNetwork ?? cfg.network?.extraNetworks?.find((x) => x.name !== DEFAULT_BRIDGE_NETWORK)?.name;
}

/** /etc/resolv.conf, read-only, when the zone has its own (writeZoneResolvConf). */
function networkBinds(store: ZoneStore, cfg: ZoneConfig): BindMount[] {
  const host = writeZoneResolvConf(store, cfg);
  return host === undefined ? [] : [{ host, zone: '/etc/resolv.conf', readOnly: true, lxzoneOwn: true }];
}

/** `rootfsDir`: where an image zone's root is when not in its state directory (its mounted disk). */
export function planBoot(store: ZoneStore, cfg: ZoneConfig, rootfsDir?: string): BootPlan {
  try {
    // A system zone's own needs first: the zone's own rules, after them, win.
    const extraRules = [...(cfg.system ? SYSTEM_ZONE_RULES : []), ...checkPolicy(cfg)];
    const seccomp = importedSeccomp(cfg);
    // Rootless: the caller's own uid is the zone's root (the runner decides); as root, the zone's own range.
    const ids = isRoot() ? ensureZoneIds(store, cfg.name) : undefined;
    const prepared = prepareZoneRootfs(store, cfg, { ...(ids ? { idShift: ids.idBase } : {}), ...(rootfsDir ? { rootfsDir } : {}) });
    checkHostPaths(cfg);
    if (cfg.system && !isRoot()) {
      throw new LxzoneError('a system zone (its own init as pid 1) needs root: its init needs a cgroup tree of its own, which lxzone delegates only as root', { code: 'EPERM' });
    }
    const volumes = imageVolumes(store, cfg, prepared, rootfsDir, ids?.idBase);
    // The zone's own mounts: named volumes (src/zone/volumes/, made and seeded here) and binds, parents first.
    const own = byDepth([...volumeBinds(new VolumeStore(store.stateDir), cfg.volumes, { ...(prepared.layers ? { layers: prepared.layers } : {}), rootless: !isRoot() }), ...cfg.binds]);
    const base = zoneProcess(cfg, prepared.image);
    // A system zone's init runs as the zone's root in /, whatever the image says of its processes.
    const proc: ZoneProcess = cfg.system ? { ...systemZoneProcess(base.env), cwd: '/' } : base;
    const user = proc.user !== undefined ? resolveUser(proc.user, prepared.readFile ?? prepared.rootfs ?? '/') : { uid: 0, gid: 0 };
    const idBase = ids?.idBase ?? (isRoot() ? DEFAULT_ID_BASE : process.getuid!());
    const env = { ...proc.env };
    if (user.home && env.HOME === undefined) env.HOME = user.home;
    const spec: ZoneSpec = {
      argv: proc.argv,
      ...(prepared.rootfs !== undefined ? { rootfs: prepared.rootfs } : {}),
      // An image's unpacked copy belongs to the zone (its ids are shifted to the zone's);
      // a host directory or the host's root stays read-only.
      rootfsWritable: cfg.rootfs.type === 'image',
      ...(cfg.rootfs.type === 'host' && cfg.rootfs.copyOnWrite ? { rootCow: { dir: cowDir(store, cfg, rootfsDir) } } : {}),
      ...(prepared.layers ? { rootCow: { dir: cowDir(store, cfg, rootfsDir), layers: prepared.layers } } : {}),
      hostname: cfg.hostname,
      ...(cfg.kernelVersion !== undefined ? { kernelVersion: cfg.kernelVersion } : {}),
      profile: cfg.profile,
      extraRules,
      ...(seccomp ? { seccomp } : {}),
      env,
      cwd: proc.cwd,
      uid: user.uid,
      gid: user.gid,
      init: cfg.system ? false : cfg.init,
      ...(cfg.system ? { system: true } : {}),
      network: networkMode(cfg),
      binds: [...volumes, ...networkBinds(store, cfg), ...own],
      ...(ids ? { idBase } : {}),
      tmpfs: cfg.tmpfs.map((t) => ({ target: t.path, sizeBytes: t.sizeBytes, ...(t.mode !== undefined ? { mode: t.mode } : {}), ...(t.noexec ? { noexec: true } : {}) })),
      // Enforced by the zone's cgroup, which the daemon makes (host-setup.ts).
      ...(cfg.resources ? { limits: limitsOf(cfg.resources) } : {}),
      restartPolicy: cfg.restartPolicy,
    };
    const hosting: BootPlan['hosting'] = {
      hiddenHostDirs: [store.stateDir, store.runtimeDir],
      // A system zone's console is a terminal whose output goes to the zone's log (process_setup.cc).
      ...(cfg.system || cfg.tty ? { tty: true } : {}),
    };
    const warnings = [...prepared.warnings];
    if (cfg.resources?.diskBytes !== undefined) {
      // Its /tmp and /run tmpfs; an image zone's root is on a disk image of that size (zone-disk.ts).
      spec.tmpSize = `${Math.max(1, Math.floor(cfg.resources.diskBytes / 1024))}k`;
    }
    const attach = attachRecordOf({ ...spec, hostname: cfg.hostname, profile: cfg.profile, extraRules, idBase }, cfg.resources?.memoryBytes);
    return { spec, hosting, attach, warnings };
  } catch (e) {
    throw bootError(cfg.name, e);
  }
}

/** The supervisor's attach options from a runtime record (re-attach after a daemon restart): as at boot. */
export function attachOptionsOf(rec: AttachRecord): AttachOptions {
  const abis = hostAbis();
  const restrict = rec.seccomp ? { restrict: rec.seccomp } : {};
  return supervisorOptions(abis, compilePolicy({ profile: rec.profile, abis, extraRules: rec.extraRules, ...restrict }, { userCache: true }).dispatch, rec);
}
