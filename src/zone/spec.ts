// What a zone is, apart from who hosts it. Every front end builds a ZoneSpec:
// `lxzone run` from its flags (config/zone-flags.ts zoneSpecFromFlags), a named
// zone from its stored configuration (lifecycle/plan.ts planBoot), exec from
// the running zone's record (lifecycle/exec.ts), and the OCI/Docker front
// ends from their documents. How this process hosts the zone (its stdio,
// callbacks, the daemon's re-attach socket and log files, the cgroup the
// host made for it) is a ZoneHosting. The one route from both to a running
// zone is startZone (run.ts): planZone (shim-plan.ts: checks, policy, ids,
// shim config) → lxzone-shim → the supervisor.
//
// Values here are resolved: a user is uid/gid (names are looked up in the
// zone's root by the front end, which knows which root that is), binds are
// checked host paths. Adding a zone property: a field here, its use in
// shim-plan.ts (and shim-config.ts + native/shim if the shim applies it),
// and each front end that can set it (docs/architecture.md "Where to change
// what").
import type { ZoneLimits } from './cgroups/limits.js';
import type { BindMount } from './config/types.js';
import type { RootCow } from './cow-root.js';
import type { ZoneEvent } from './events.js';
import type { ShimTmpfs } from './shim-config.js';
import type { Profile, SyscallRules } from '../policy/types.js';
import type { CapSets } from './shim-config.js';

export type NetworkMode = 'none' | 'loopback' | 'zone';

export interface ZoneSpec {
  /** The binary and its arguments (under init when `init` is on). */
  argv: string[];
  /** Added to the defaults (PATH, HOME, HOSTNAME, container=lxzone, TERM). */
  env?: Record<string, string>;
  /** Working directory in the zone (default /). */
  cwd?: string;
  /** The zone user the binary runs as (default 0:0, the zone's root). */
  uid?: number;
  gid?: number;
  /** Default "lxzone". */
  hostname?: string;
  /** A directory to use as the zone's root; default: the host's root, read-only. */
  rootfs?: string;
  /** The root is the zone's own (an unpacked image, its ids shifted to the zone's). */
  rootfsWritable?: boolean;
  /**
   * An OCI bundle's rootfs (files of host root's): bound id-mapped onto the
   * zone's ids, so the zone's root owns what host root owns there and writes
   * as host root (as under runc). Where the filesystem cannot be id-mapped it
   * is bound as it is.
   */
  rootfsIdMap?: boolean;
  /** The host's root, copy-on-write (src/zone/cow-root.ts); excludes rootfs. */
  rootCow?: RootCow;
  binds?: BindMount[];
  /** Extra tmpfs mounts in the zone (paths resolved inside the zone's root). */
  tmpfs?: ShimTmpfs[];
  /** OCI linux.sysctl: [name, value] of the zone's own namespaces only (src/oci/sysctl.ts). */
  sysctls?: [string, string][];
  /** OCI process.user.additionalGids: supplementary groups of the zone's process (zone ids; default none). */
  groups?: number[];
  /** OCI process.user.umask of the zone's process (default: inherited from its launcher). */
  umask?: number;
  /** OCI process.capabilities: the process's sets, granted within the zone's own (default: the zone's whole set). */
  capabilities?: CapSets;
  /** Resource limits of the zone's processes (setrlimit before the binary). */
  rlimits?: { resource: number; soft: bigint; hard: bigint }[];
  /** Zone paths hidden from the zone (files: /dev/null; directories: an empty read-only tmpfs), after binds. */
  masks?: string[];
  /** Zone paths made read-only where they are (a read-only recursive bind of
   * each onto itself, runc's readonlyPaths), after binds, before masks; a
   * path that does not exist is skipped. */
  readonlyPaths?: string[];
  /** Size of the zone's /tmp and /run tmpfs (e.g. "65536k"). */
  tmpSize?: string;
  /** The uname release the zone reports; default: the host's. */
  kernelVersion?: string;
  /**
   * Let a process choose its own release with LXZONE_KERNEL_VERSION in its
   * environment (as the LX brand allowed). Off by default: it costs a read of
   * the caller's environment on every uname.
   */
  kernelVersionEnv?: boolean;
  /** The syscall profile (default "default"), and rules appended to it. */
  profile?: string;
  extraRules?: SyscallRules[];
  /**
   * A Docker/OCI seccomp profile (imported, src/policy/docker.ts) over the
   * zone's: per call the stricter decision wins (src/policy/combine.ts). An
   * OCI bundle's linux.seccomp.
   */
  seccomp?: Profile;
  allowNesting?: boolean;
  /** A small reaper as pid 1 (default), or the binary itself as pid 1. */
  init?: boolean;
  /** A system zone (docs/parts/system-zones.md): the binary is the image's init, given what systemd needs. */
  system?: boolean;
  /** Default loopback. "zone" needs its host to plug it into the bridge (the daemon does). */
  network?: NetworkMode;
  /**
   * Resource caps. Enforced by a cgroup its host makes: runZone and
   * startOneShot make one of their own, the daemon the zone's
   * (lifecycle/host-setup.ts); startZone alone refuses caps without
   * `cgroupProcs` rather than run the zone uncapped.
   */
  limits?: ZoneLimits;
  /**
   * no | on-failure[:N] | always | unless-stopped: honoured by the daemon
   * (lifecycle/restart.ts). A one-shot run restarts only a zone that asks
   * with reboot(2) (run-restarts.ts).
   */
  restartPolicy?: string;
  /** Host uid/gid that the zone's root maps to (default: a range claimed for this run). */
  idBase?: number;
}

/** How this process hosts a zone: nothing here changes what the zone is. */
export interface ZoneHosting {
  /** 'inherit' passes this process's stdio through; 'pipe' collects stdout/stderr; 'fds' uses stdioFds. */
  stdio?: 'inherit' | 'pipe' | 'fds';
  /** stdin for stdio 'pipe' (default: empty). */
  input?: string | Buffer;
  /** stdio file descriptors for the keeper when stdio is 'fds'. */
  stdioFds?: [number, number, number];
  /**
   * Fds of this process that become the binary's fds 3, 4, ... (lxzone-runc
   * --preserve-fds: the caller hands them into the zone, as with runc).
   */
  preserveFds?: number[];
  /**
   * The keeper joins the zone's network namespace (lxzone-runc): the pid the
   * runtime reports is the keeper's, and OCI hooks that set up a container's
   * network through /proc/PID/ns/net must find the zone's there.
   */
  keeperInZoneNetns?: boolean;
  /**
   * Existing namespaces the zone joins instead of making its own (OCI
   * linux.namespaces[].path: a pod's containers join its sandbox's). The
   * shim checks whose they are (native/shim/joined_namespaces.h).
   */
  joinNamespaces?: { net?: string; ipc?: string; uts?: string };
  /**
   * The keeper exits only after this process has (lxzone-runc exec --detach):
   * its exit status then goes to whoever reaps orphans (containerd's shim),
   * never to this process, which reaps its children.
   */
  exitAfterParent?: boolean;
  /** With joinNamespaces: the running zone (its init's host pid) whose user namespace and id range (idBase) this zone shares. */
  joinUsernsPid?: number;
  /** A pseudo-terminal for the binary (docker's -t); the keeper relays it to our stdio. */
  tty?: boolean;
  /**
   * The zone's stdin/stdout/stderr are pipes its keeper owns and relays to
   * the keeper's own stdio (as docker exec does): no zone process ever holds
   * one of our fds (a terminal, a file).
   */
  relayStdio?: boolean;
  /** The keeper writes the zone's output to these files (implies relayStdio), each kept under fileMaxBytes with one rotated copy. */
  logFiles?: { stdout: string; stderr: string; fileMaxBytes: number };
  /** Keep the keeper alive if this process dies (daemon-managed zones). */
  detached?: boolean;
  /** A socket path where a restarted supervisor can take the zone back (see ZoneSupervisor.reattach). */
  reattachSocket?: string;
  /** Seconds a zone waits for a supervisor to come back before it is stopped (default 30). */
  reattachTimeoutSeconds?: number;
  /** Host-side setup between the zone's creation and its start (cgroups, network): the zone waits for it. */
  onCreated?: (initPid: number) => Promise<void> | void;
  /** strace-style lines for syscalls the profile marks `trace`. */
  onTrace?: (line: string, event: Extract<ZoneEvent, { type: 'trace' }>) => void;
  /** Every supervisor event of the zone, for callers that want them. */
  onEvent?: (event: ZoneEvent) => void;
  /** Handlers for syscalls whose disposition is emulate:js, by syscall name. */
  jsHandlers?: Record<string, JsHandler>;
  /** cgroup procs files to place the zone in before it runs (the keeper writes its pid): the cgroup enforcing `limits`. */
  cgroupProcs?: string[];
  /** Files bound read-only over the zone's /proc (its LXCFS view, made by the host with the cgroup). */
  procBinds?: BindMount[];
  /** Memory cap for sysinfo's view (the cgroup enforces it). */
  memoryLimit?: number;
  memoryUsageFile?: string;
  /** A file a granted reboot(2) is recorded in before the zone ends (a daemon reads it). */
  rebootMarker?: string;
  /** Host directories of lxzone's the zone must not see, besides the caller's default state and runtime directories. */
  hiddenHostDirs?: string[];
  /**
   * The OCI create/start split (src/oci/): the zone is built and filtered,
   * but its binary waits, just before exec, until something opens this fifo
   * (a host path, given to the zone's user) for reading.
   */
  startFifo?: string;
  /** Join the running zone whose init has this host pid instead of creating one (see execInZone). */
  joinPid?: number;
}

/** The flat form startZone and runZone take: a zone and how it is hosted. */
export type RunOptions = ZoneSpec & ZoneHosting;

export interface JsCall {
  pid: number;
  abi: string;
  nr: number;
  args: bigint[];
}
/** Returns the syscall's result (>= 0) or throws/returns a negative errno. */
export type JsHandler = (call: JsCall) => number | Promise<number>;
