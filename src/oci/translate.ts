// Bundle → zone, once (runc's libcontainer/specconv shape): every field of
// config.json that lxzone reads is decided here, translated into the zone's
// run options, or refused with the field named. lxzone is stricter than the
// spec asks in a few places (it always makes every namespace, maps the
// container's root to an unprivileged host range, sets no_new_privs); those
// are noted, never refused. What it cannot honour and would make a container
// weaker than its config says is refused.
import { existsSync, realpathSync, statSync } from 'node:fs';
import { isAbsolute, join, normalize, resolve } from 'node:path';
import { LxzoneError } from '../errors.js';
import type { ZoneLimits } from '../zone/cgroups/index.js';
import type { BindMount } from '../zone/config/types.js';
import type { ZoneSpec } from '../zone/spec.js';
import type { ShimTmpfs } from '../zone/shim-config.js';
import type { Profile } from '../policy/types.js';
import { importDockerProfile } from '../policy/docker.js';
import { capabilitySets } from './capabilities.js';
import { deviceRulesOfZone, devicesOfZone } from './devices.js';
import { requestedIdBase } from './id-mappings.js';
import { zoneSysctls } from './sysctl.js';
import type { OciHooks, OciMount, OciProcess, OciResources, OciSeccomp, OciSpec } from './spec.js';

export interface OciPlan {
  /** The zone, as every front end describes one (src/zone/spec.ts). */
  zone: ZoneSpec;
  /** process.terminal: how the zone is hosted, not what it is. */
  tty: boolean;
  rootfs: string;
  /** linux.namespaces[].path: namespaces the zone joins (a pod's sandbox's), by the shim's names. */
  joins?: JoinedNamespaces;
  cgroupsPath?: string;
  oomScoreAdj?: number;
  /** linux.uidMappings/gidMappings: the host range asked for (src/oci/id-mappings.ts), else lxzone picks. */
  idBase?: number;
  hooks: OciHooks;
  /** What lxzone did differently from the config, without weakening it (logged). */
  notes: string[];
}

function refuse(where: string, why: string): never {
  throw new LxzoneError(`config.json ${where}: ${why}`, { where, code: 'EINVAL' });
}

/** Mounts lxzone makes itself for every zone (its own proc, sysfs, /dev and its devpts, shm, mqueue, cgroup view). */
const OWN_MOUNTS: Record<string, string[]> = {
  '/proc': ['proc'],
  '/sys': ['sysfs'],
  '/dev': ['tmpfs'],
  '/dev/pts': ['devpts'],
  // A bind at /dev/shm (containerd's pod sandbox shm, dockerd's --shm-size one) goes over it: a pod's containers share it.
  '/dev/shm': ['tmpfs'],
  '/dev/mqueue': ['mqueue'],
  '/sys/fs/cgroup': ['cgroup', 'cgroup2'],
};

/** Paths lxzone already makes read-only or masks in every zone (docs/architecture.md, "The mount tree"). */
const READONLY_ALREADY = new Set(['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger', '/proc/asound']);

function tmpfsSize(options: string[]): number {
  for (const o of options) {
    const m = /^size=([0-9]+)([kmg%]?)$/i.exec(o);
    if (m) {
      const n = Number(m[1]);
      const unit = (m[2] ?? '').toLowerCase();
      if (unit === '%') break;
      return n * (unit === 'k' ? 1024 : unit === 'm' ? 1048576 : unit === 'g' ? 1073741824 : 1);
    }
  }
  return 64 * 1048576;
}

function tmpfsMode(options: string[]): number | undefined {
  for (const o of options) {
    const m = /^mode=([0-7]{3,4})$/.exec(o);
    if (m) return parseInt(m[1]!, 8);
  }
  return undefined;
}

function translateMount(m: OciMount, i: number, bundle: string, binds: BindMount[], tmpfs: ShimTmpfs[], notes: string[]): void {
  const where = `mounts[${i}]`;
  const options = m.options ?? [];
  const dest = m.destination;
  if (!isAbsolute(dest)) refuse(`${where}.destination`, `${dest} is not an absolute path`);
  const target = normalize(dest).replace(/\/+$/, '') || '/';
  if (target.split('/').includes('..')) refuse(`${where}.destination`, "must not contain '..'");
  if (target === '/') refuse(`${where}.destination`, "a mount over the container's root is not supported (use root.path)");
  const isBind = m.type === 'bind' || options.includes('bind') || options.includes('rbind');
  if (!isBind && OWN_MOUNTS[target]?.includes(m.type ?? '')) {
    return; // lxzone's own (stricter) mount of it
  }
  if (m.uidMappings?.length || m.gidMappings?.length) refuse(where, 'id-mapped mounts are not supported');
  if (isBind) {
    if (!m.source) refuse(`${where}.source`, 'a bind mount needs a source');
    const source = resolve(bundle, m.source);
    if (!existsSync(source)) refuse(`${where}.source`, `${source} does not exist`);
    // The shim refuses symlinks on the way; give it the real path.
    binds.push({ host: realpathSync(source), zone: target, readOnly: options.includes('ro') });
    return;
  }
  if (m.type === 'tmpfs') {
    tmpfs.push({ target, sizeBytes: tmpfsSize(options), mode: tmpfsMode(options) });
    return;
  }
  if (target === '/tmp' || target === '/run') {
    notes.push(`${where}: ${target} is lxzone's own private tmpfs`);
    return;
  }
  refuse(where, `a ${m.type ?? 'typeless'} mount at ${target} is not supported (bind and tmpfs mounts are)`);
}

/** RLIMIT_* in <sys/resource.h> order: the index is the resource number. */
const RLIMITS = ['RLIMIT_CPU', 'RLIMIT_FSIZE', 'RLIMIT_DATA', 'RLIMIT_STACK', 'RLIMIT_CORE', 'RLIMIT_RSS', 'RLIMIT_NPROC', 'RLIMIT_NOFILE', 'RLIMIT_MEMLOCK', 'RLIMIT_AS', 'RLIMIT_LOCKS', 'RLIMIT_SIGPENDING', 'RLIMIT_MSGQUEUE', 'RLIMIT_NICE', 'RLIMIT_RTPRIO', 'RLIMIT_RTTIME'];

const NAMESPACES = ['pid', 'network', 'mount', 'ipc', 'uts', 'user', 'cgroup', 'time'];

/** Namespaces joined by path, by the shim's names; `user` only ever the pod's zone's (src/oci/pod.ts checks). */
export interface JoinedNamespaces { net?: string; ipc?: string; uts?: string; user?: string }

/** OCI namespace type → the shim's name, for the types a zone may join by path. */
const JOINABLE: Record<string, keyof JoinedNamespaces> = { network: 'net', ipc: 'ipc', uts: 'uts', user: 'user' };

/**
 * linux.namespaces[].path: network, IPC and UTS namespaces may be joined
 * (what a pod's containers share with its sandbox), and the user namespace
 * when it is the pod's zone's (checked at create). The mount namespace is
 * the zone's own tree (its root, masks and locks), the pid namespace the
 * zone's own init's; joining either, or a cgroup or time namespace, is refused.
 */
function joinedNamespaces(list: { type: string; path?: string }[]): JoinedNamespaces {
  const out: JoinedNamespaces = {};
  for (const [i, ns] of list.entries()) {
    if (!ns.path) continue;
    const where = `linux.namespaces[${i}].path`;
    const key = JOINABLE[ns.type];
    // A shared pid namespace (shareProcessNamespace pods) would put the zone's processes under another
    // zone's init, which reaps them, and under another keeper's pid view; the shim starts each zone's own.
    if (ns.type === 'pid') refuse(where, `joining an existing pid namespace (${ns.path}) is not supported: each zone has its own pid namespace and init (a pod's shareProcessNamespace is refused)`);
    if (!key) refuse(where, `joining an existing ${ns.type} namespace (${ns.path}) is not supported: a zone joins network, IPC, UTS (and its pod's user) namespaces only`);
    if (!isAbsolute(ns.path)) refuse(where, `${ns.path} is not an absolute path`);
    if (!existsSync(ns.path)) refuse(where, `${ns.path} does not exist`);
    out[key] = ns.path;
  }
  return out;
}

/** The process part of a zone: what config.json's process and exec --process both give. */
export interface ProcessPlan {
  zone: Pick<ZoneSpec, 'argv' | 'env' | 'cwd' | 'uid' | 'gid' | 'groups' | 'rlimits' | 'capabilities' | 'umask'>;
  tty: boolean;
  notes: string[];
}

/** process (config.json's, or exec's --process file as WHERE) → the zone's process. */
export function translateProcess(p: OciProcess, where = 'process'): ProcessPlan {
  const notes: string[] = [];
  if (!p.args?.length) refuse(`${where}.args`, 'missing or empty');
  if (p.commandLine !== undefined) refuse(`${where}.commandLine`, 'is for Windows');
  if (p.apparmorProfile) refuse(`${where}.apparmorProfile`, `AppArmor profiles are not supported by lxzone (${p.apparmorProfile}); its isolation is its own filter, namespaces and id mapping`);
  if (p.selinuxLabel) refuse(`${where}.selinuxLabel`, 'SELinux labels are not supported by lxzone');
  const env: Record<string, string> = {};
  for (const e of p.env ?? []) {
    const eq = e.indexOf('=');
    env[e.slice(0, eq)] = e.slice(eq + 1);
  }
  const groups = [...new Set(p.user.additionalGids ?? [])];
  if (groups.length > 64) refuse(`${where}.user.additionalGids`, 'more than 64 groups');
  if (p.noNewPrivileges === false) notes.push(`${where}.noNewPrivileges=false: lxzone always sets no_new_privs`);
  const rlimits = (p.rlimits ?? []).map((r, i) => {
    const resource = RLIMITS.indexOf(r.type);
    if (resource < 0) refuse(`${where}.rlimits[${i}].type`, `${r.type} is not a Linux resource limit`);
    if (r.soft > r.hard) refuse(`${where}.rlimits[${i}]`, 'soft is above hard');
    return { resource, soft: BigInt(r.soft), hard: BigInt(r.hard) };
  });
  return {
    zone: {
      argv: p.args, env, cwd: p.cwd, uid: p.user.uid, gid: p.user.gid,
      ...(rlimits.length ? { rlimits } : {}),
      ...(p.user.umask !== undefined ? { umask: p.user.umask } : {}),
      ...(groups.length ? { groups } : {}),
      // No capabilities object: none at all (runtime-spec), not the zone's set.
      capabilities: capabilitySets(p.capabilities ?? {}, `${where}.capabilities`, notes),
    },
    tty: p.terminal ?? false,
    notes,
  };
}

export function translateSpec(spec: OciSpec, bundle: string): OciPlan {
  const p = spec.process;
  if (!p) refuse('process', 'missing (create needs a process to run)');
  const proc = translateProcess(p);
  const notes = proc.notes;
  if (spec.linux?.mountLabel) refuse('linux.mountLabel', 'SELinux mount labels are not supported by lxzone');
  if (!spec.root) refuse('root', 'missing');
  const rootPath = resolve(bundle, spec.root.path);
  if (!existsSync(rootPath) || !statSync(rootPath).isDirectory()) refuse('root.path', `${rootPath} is not a directory`);
  const rootfs = realpathSync(rootPath);
  // Id-mapped onto the zone's ids below: never the host's own root.
  if (rootfs === '/') refuse('root.path', "the host's root cannot be a container's rootfs");

  const linux = spec.linux ?? {};
  const joins = joinedNamespaces(linux.namespaces ?? []);
  if (joins.uts && spec.hostname) refuse('hostname', `set with a joined UTS namespace (${joins.uts}): the hostname is that namespace's maker's (as runc)`);
  const listed = new Set((linux.namespaces ?? []).map((n) => n.type));
  const extra = NAMESPACES.filter((n) => !listed.has(n));
  if (extra.length) notes.push(`linux.namespaces: the zone gets its own ${extra.join(', ')} namespace(s) too`);
  const idBase = requestedIdBase(linux.uidMappings, linux.gidMappings);
  const sysctls = zoneSysctls(linux.sysctl ?? {});
  const seccomp = linux.seccomp ? importSeccomp(linux.seccomp, p.capabilities?.bounding ?? [], notes) : undefined;
  devicesOfZone(linux.devices ?? [], notes);
  if (linux.personality) refuse('linux.personality', 'not supported');
  if (linux.rootfsPropagation && !['private', 'rprivate', 'slave', 'rslave'].includes(linux.rootfsPropagation)) {
    refuse('linux.rootfsPropagation', `${linux.rootfsPropagation}: a zone's mounts never propagate to the host`);
  }
  const readonly = readonlyPaths(linux.readonlyPaths ?? []);

  const binds: BindMount[] = [];
  const tmpfs: ShimTmpfs[] = [];
  for (const [i, m] of (spec.mounts ?? []).entries()) translateMount(m, i, bundle, binds, tmpfs, notes);

  const limits = resourcesToLimits(linux.resources, notes);
  const zone: ZoneSpec = {
    ...proc.zone,
    rootfs,
    rootfsWritable: !spec.root.readonly,
    rootfsIdMap: true,
    hostname: spec.hostname || undefined,
    init: false,
    network: 'loopback',
    binds,
    tmpfs,
    ...(limits ? { limits } : {}),
    ...(seccomp ? { seccomp } : {}),
    ...(sysctls.length ? { sysctls } : {}),
  };
  const masks = maskedPaths(linux.maskedPaths ?? []);
  if (masks.length) zone.masks = masks;
  if (readonly.length) zone.readonlyPaths = readonly;
  return {
    zone,
    tty: proc.tty,
    rootfs,
    ...(Object.keys(joins).length ? { joins } : {}),
    cgroupsPath: linux.cgroupsPath,
    oomScoreAdj: p.oomScoreAdj,
    ...(idBase !== undefined ? { idBase } : {}),
    hooks: spec.hooks ?? {},
    notes,
  };
}

/** Filter flags that only relax or log: without them the zone is as strict or stricter. */
const SECCOMP_FLAGS_NOTED = new Set(['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_TSYNC', 'SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV']);

/**
 * linux.seccomp → an lxzone profile through the Docker/OCI importer; the
 * zone's filter is then lxzone's profile and this one combined, the stricter
 * decision winning per call (src/policy/combine.ts). includes/excludes.caps
 * (Docker's extension) are decided for the bounding set the config gives.
 */
function importSeccomp(sc: OciSeccomp, caps: string[], notes: string[]): Profile {
  if (sc.listenerPath) refuse('linux.seccomp.listenerPath', "a seccomp agent is not supported: lxzone's own supervisor holds the zone's listener");
  for (const [i, f] of (sc.flags ?? []).entries()) {
    if (!SECCOMP_FLAGS_NOTED.has(f)) refuse(`linux.seccomp.flags[${i}]`, `${f} is not a seccomp filter flag`);
    notes.push(`linux.seccomp.flags: ${f} not set (lxzone installs its one filter without it)`);
  }
  const { listenerPath: _l, listenerMetadata: _m, flags: _f, ...doc } = sc;
  const { profile, report } = importDockerProfile(doc, { name: 'oci-bundle', file: 'config.json linux.seccomp', caps });
  notes.push(...report);
  return profile;
}

/**
 * maskedPaths: the shim masks each after the zone's own /proc, /dev and /sys
 * and the config's mounts are in place (native/shim/mounts.cc mask_in_root):
 * a file behind /dev/null, a directory behind an empty tmpfs; a path that
 * does not exist is skipped (runc's rule). Every zone masks Docker's list
 * under /proc and /sys already (mount_proc, mount_sys).
 */
function maskedPaths(paths: string[]): string[] {
  return zonePaths(paths, 'linux.maskedPaths', 'cannot be masked');
}

/**
 * readonlyPaths: the shim binds each onto itself read-only (recursively),
 * after the config's mounts and before the masks, as runc does once the
 * rootfs is set up (native/shim/mounts.cc readonly_in_root); a path that
 * does not exist is skipped (runc's rule), one that leads nowhere (a
 * symlink loop) fails the create. Those every zone has read-only already
 * (READONLY_ALREADY, under /proc) need nothing more.
 */
function readonlyPaths(paths: string[]): string[] {
  const out = zonePaths(paths, 'linux.readonlyPaths', 'cannot be made read-only (root.readonly makes the whole root so)');
  return out.filter((p) => !READONLY_ALREADY.has(p));
}

/** Absolute zone paths, normalised, none of them the root or climbing out with '..'. */
function zonePaths(paths: string[], field: string, why: string): string[] {
  const out: string[] = [];
  for (const [i, raw] of paths.entries()) {
    const m = normalize(raw).replace(/\/+$/, '');
    if (!isAbsolute(raw)) refuse(`${field}[${i}]`, `${raw} is not an absolute path`);
    if (raw.split('/').includes('..') || m === '/' || m === '') refuse(`${field}[${i}]`, `${raw} ${why}`);
    out.push(m);
  }
  return out;
}

export function resourcesToLimits(r: OciResources | undefined, notes: string[]): ZoneLimits | undefined {
  if (!r) return undefined;
  const limits: ZoneLimits = {};
  if (r.memory?.limit !== undefined && r.memory.limit > 0) {
    limits.memory = r.memory.limit;
    // swap is memory+swap; -1 is unlimited swap (runtime-spec).
    if (r.memory.swap === -1) limits.swap = null;
    else if (r.memory.swap !== undefined && r.memory.swap > 0) limits.swap = Math.max(0, r.memory.swap - r.memory.limit);
  }
  // Softer or older knobs: not applying them leaves the zone as capped as its limit says (noted).
  const m = (r.memory ?? {}) as Record<string, unknown>;
  const unapplied = ['reservation', 'kernel', 'kernelTCP', 'swappiness', 'disableOOMKiller', 'useHierarchy', 'checkBeforeUpdate'].filter((k) => m[k] !== undefined);
  if (unapplied.length) notes.push(`linux.resources.memory: ${unapplied.join(', ')} not applied (the zone's memory limit and swap are)`);
  if (r.pids?.limit !== undefined && r.pids.limit > 0) limits.pids = r.pids.limit;
  if (r.cpu?.shares) limits.cpuShares = r.cpu.shares;
  if (r.cpu?.quota !== undefined && r.cpu.quota > 0) limits.cpus = r.cpu.quota / (r.cpu.period || 100000);
  const unsupported = ['blockIO', 'hugepageLimits', 'network', 'rdma', 'unified'].filter((k) => (r as Record<string, unknown>)[k] !== undefined);
  if (r.cpu?.cpus || r.cpu?.mems || r.cpu?.realtimeRuntime) unsupported.push('cpu.cpus/mems/realtime');
  if (unsupported.length) refuse('linux.resources', `${unsupported.join(', ')} not supported (memory, pids, cpu shares and quota are)`);
  deviceRulesOfZone(r.devices ?? [], 'linux.resources.devices', notes);
  return Object.keys(limits).length ? limits : undefined;
}

export const BUNDLE_CONFIG = (bundle: string): string => join(bundle, 'config.json');
