// Encodes a zone for lxzone-shim's config fd: NUL-terminated key=value
// records, lists by repetition (native/shim/config.h is the reader).
import { LxzoneError } from '../errors.js';
import type { BindMount } from './config/types.js';
import type { AttachOptions } from '../native.js';
import type { ShimConfigKey } from '../seam.generated.js';

export interface ShimTmpfs {
  target: string;
  sizeBytes: number;
  mode?: number;
  noexec?: boolean;
}

/**
 * A slot: a value a launch description leaves open, filled per run by the
 * native front end (docs/parts/fast-run.md). Encoded as a record whose value
 * starts with this byte, which no real value does.
 */
export const SLOT = '\x01';
export type Slot = typeof SLOT;

export interface ShimConfig {
  argv: string[];
  env: string[];
  rootfs?: string;
  rootfsWritable?: boolean;
  /** An OCI bundle's rootfs, bound id-mapped onto the zone's ids (native/shim/rootfs_idmap.h). */
  rootfsIdMap?: boolean;
  /** A copy-on-write host root (native/shim/cow_root.cc). */
  rootCow?: { dir?: string; size?: string; layers?: string[] };
  /** Zone paths hidden from the zone. */
  masks?: string[];
  /** Zone paths made read-only where they are (native/shim/mounts.cc readonly_in_root). */
  readonly?: string[];
  hostname: string;
  cwd: string;
  /** A slot in a launch description's template. */
  idBase: number | Slot;
  idCount: number;
  uid: number;
  gid: number;
  init: boolean;
  hold: boolean;
  dieWithParent: boolean;
  /** Where a restarted supervisor can re-attach; without one the zone stops when its supervisor goes. */
  reattachSocket?: string;
  reattachTimeoutSeconds?: number;
  network: 'none' | 'loopback' | 'zone';
  tmpSize?: string;
  /** One shape of a bind from the zone config to here: {host, zone, readOnly}. */
  binds: BindMount[];
  procBinds: BindMount[];
  tmpfs?: ShimTmpfs[];
  /** Zone paths masked with an empty read-only tmpfs (lxzone's own state: hidden-paths.ts). */
  hide?: string[];
  /** A pseudo-terminal in the zone, relayed by the keeper (a slot in a launch description's template). */
  tty?: boolean | Slot;
  /** A system zone: its init (systemd) gets cgroup2 on /sys/fs/cgroup, /run/systemd/container, CAP_SYS_ADMIN. */
  system?: boolean;
  /** lxzone-runc's create/start split: a host fifo the zone's process blocks on (opening it for writing) just before exec. */
  startFifo?: string;
  /** Resource limits of the zone's processes: resource number (RLIMIT_*), soft, hard (bigint: 2^64-1 is unlimited). */
  rlimits?: { resource: number; soft: bigint; hard: bigint }[];
  /** OCI linux.sysctl: names and values written in the zone's network, IPC and UTS namespaces (src/oci/sysctl.ts chooses which). */
  sysctls?: [string, string][];
  /** OCI process.user.additionalGids: supplementary groups of the zone's process (zone ids). */
  groups?: number[];
  /** OCI process.user.umask of the zone's process (default: inherited from its launcher). */
  umask?: number;
  /** The shim's fds that become the binary's 3, 4, ... (lxzone-runc --preserve-fds). */
  preserveFds?: number[];
  /** The keeper lives in the zone's network namespace (lxzone-runc: the pid OCI hooks get is the keeper's). */
  keeperInZoneNetns?: boolean;
  /** Namespaces joined by path instead of made (lxzone-runc: a pod's sandbox's). */
  joinNamespaces?: { net?: string; ipc?: string; uts?: string };
  /** The keeper exits only once its launcher has (its status goes to the launcher's reaper). */
  exitAfterParent?: boolean;
  /** The running zone whose user namespace (and id range) this zone enters. */
  joinUsernsPid?: number;
  /** OCI process.capabilities: each set as a mask by capability number; the shim grants them within the zone's set. */
  capabilities?: CapSets;
  /** exec: the host pid of the running zone's init to join. */
  joinPid?: number;
  /** cgroup procs files the keeper places the zone's first process in (and itself, while it serves the zone). */
  cgroupProcs?: string[];
  /**
   * The seccomp filter (struct sock_filter[]) of lxzone-utsfs, the server of the
   * zone's /proc/sys/kernel/hostname and domainname (the uts-server profile:
   * src/policy/uts-server-filter.ts); without it the keeper starts no server.
   */
  utsServerFilter?: Buffer;
  /** The supervisor's attach options: the keeper answers the zone's notified calls itself while no supervisor is attached. */
  serve?: ServeOptions;
  /** The zone's stdio is pipes the keeper relays to its own (no host fd ever in the zone). */
  relayStdio?: boolean;
  /** With relayStdio: the keeper writes the zone's output to these files, each under fileMaxBytes with one rotated copy. */
  logs?: { stdout: string; stderr: string; fileMaxBytes: number };
}

export type ServeOptions = Pick<AttachOptions, 'dispatch' | 'kernelVersion' | 'kernelVersionEnv' | 'memoryLimit' | 'memoryUsageFile' | 'rebootMarker' | 'driverFilter'>;

const US = '\x1f';

export function encodeShimConfig(c: ShimConfig): Buffer {
  const records: string[] = ['version=1'];
  const add = (key: ShimConfigKey, value: string | number | boolean): void => {
    const v = typeof value === 'boolean' ? (value ? '1' : '0') : String(value);
    if (v.includes('\0')) throw new LxzoneError(`zone ${key} contains a NUL byte`);
    records.push(`${key}=${v}`);
  };
  for (const a of c.argv) add('arg', a);
  for (const e of c.env) add('env', e);
  add('rootfs', c.rootfs ?? '');
  add('rootfs-writable', c.rootfsWritable ?? false);
  if (c.rootfsIdMap) add('rootfs-idmap', true);
  if (c.rootCow) {
    add('root-cow', true);
    if (c.rootCow.dir) add('root-cow-dir', c.rootCow.dir);
    if (c.rootCow.size) add('root-cow-size', c.rootCow.size);
    for (const l of c.rootCow.layers ?? []) add('root-cow-layer', l);
  }
  for (const m of c.masks ?? []) add('mask', m);
  for (const r of c.readonly ?? []) add('readonly', r);
  add('hostname', c.hostname);
  add('cwd', c.cwd);
  add('id-base', c.idBase);
  add('id-count', c.idCount);
  add('uid', c.uid);
  add('gid', c.gid);
  add('init', c.init);
  add('hold', c.hold);
  add('die-with-parent', c.dieWithParent);
  if (c.reattachSocket) add('reattach-socket', c.reattachSocket);
  if (c.reattachTimeoutSeconds !== undefined) add('reattach-timeout', c.reattachTimeoutSeconds);
  add('network', c.network);
  if (c.tmpSize) add('tmp-size', c.tmpSize);
  for (const b of c.binds) add('bind', [b.host, b.zone, `${b.readOnly ? 'ro' : 'rw'}${b.idmap ? '+idmap' : ''}`].join(US));
  for (const b of c.procBinds) add('proc-bind', [b.host, b.zone, 'ro'].join(US));
  if (c.tty) add('tty', c.tty === SLOT ? SLOT : true);
  if (c.system) add('system', true);
  if (c.startFifo) add('start-fifo', c.startFifo);
  // 2^63 and above: unlimited (RLIM_INFINITY is 2^64-1, which JSON numbers cannot hold exactly).
  const lim = (v: bigint): string => (v >= 2n ** 63n ? 'unlimited' : String(v));
  for (const r of c.rlimits ?? []) add('rlimit', [r.resource, lim(r.soft), lim(r.hard)].join(US));
  for (const g of c.groups ?? []) add('group', g);
  for (const [k, v] of c.sysctls ?? []) add('sysctl', `${k}${US}${v}`);
  if (c.umask !== undefined) add('umask', c.umask);
  for (const fd of c.preserveFds ?? []) add('preserve-fd', fd);
  if (c.keeperInZoneNetns) add('keeper-netns', true);
  for (const [type, path] of Object.entries(c.joinNamespaces ?? {})) if (path) add('join-ns', `${type}${US}${path}`);
  if (c.joinUsernsPid !== undefined) add('join-userns', c.joinUsernsPid);
  if (c.exitAfterParent) add('exit-after-parent', true);
  if (c.capabilities) {
    const k = c.capabilities;
    add('caps', [k.bounding, k.effective, k.permitted, k.inheritable, k.ambient].map(String).join(US));
  }
  if (c.joinPid !== undefined) add('join-pid', c.joinPid);
  for (const p of c.cgroupProcs ?? []) add('cgroup-procs', p);
  for (const h of c.hide ?? []) add('hide', h);
  for (const t of c.tmpfs ?? []) add('tmpfs', [t.target, `${Math.ceil(t.sizeBytes / 1024)}k`, (t.mode ?? 0o1777).toString(8), ...(t.noexec ? ['noexec'] : [])].join(US));
  if (c.utsServerFilter) add('uts-server-filter', c.utsServerFilter.toString('hex'));
  const s = c.serve;
  if (s) {
    add('serve-dispatch', s.dispatch.toString('hex'));
    if (s.kernelVersion !== undefined) add('serve-kernel-version', s.kernelVersion);
    if (s.kernelVersionEnv) add('serve-kernel-version-env', true);
    if (s.memoryLimit !== undefined) add('serve-memory-limit', s.memoryLimit);
    if (s.memoryUsageFile !== undefined) add('serve-memory-usage-file', s.memoryUsageFile);
    if (s.rebootMarker !== undefined) add('serve-reboot-marker', s.rebootMarker);
    if (s.driverFilter !== undefined) add('serve-driver-filter', s.driverFilter.toString('hex'));
  }
  if (c.relayStdio || c.logs) add('relay-stdio', true);
  if (c.logs) {
    add('log-stdout', c.logs.stdout);
    add('log-stderr', c.logs.stderr);
    add('log-file-max', c.logs.fileMaxBytes);
  }
  return Buffer.from(records.map((r) => `${r}\0`).join(''), 'utf8');
}

/** The five capability sets of a process, as bit masks by capability number. */
export interface CapSets { bounding: bigint; effective: bigint; permitted: bigint; inheritable: bigint; ambient: bigint }
