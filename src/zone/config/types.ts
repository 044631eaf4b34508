// The shape of a zone's configuration, as stored in <state>/zones/<name>/config.json
// and as the lifecycle, the CLI and the TypeScript API exchange it. The JSON
// Schema in schema.ts is the authority on what is valid; these types mirror it.

/** Where the zone's root filesystem comes from. */
export type RootfsConfig =
  /** The host's root, mounted read-only inside the zone; or, with
   * copyOnWrite, writable through an overlay whose upper layer is on the
   * zone's disk (src/zone/cow-root.ts). */
  | { type: 'host'; copyOnWrite?: boolean }
  /** A directory on the host used as the zone's root (absolute, no symlink on the way). */
  | { type: 'dir'; path: string }
  /** An image file: a plain rootfs tar, a `docker save` archive, an OCI
   * image-layout archive or directory. create imports it into the image
   * store and stores the zone as {type: 'store'} (zone-import.ts); a zone
   * stored so by an older lxzone has it unpacked in its state directory. */
  | { type: 'image'; path: string; format?: ImageFormatName; ref?: string }
  /** An image of the image store (src/zone/image/store/): its layers shared
   * read-only under an overlay whose upper layer is on the zone's disk. */
  | { type: 'store'; ref: string; digest: string };

export type ImageFormatName = 'auto' | 'rootfs' | 'docker' | 'oci';

export interface BindMount {
  /** Host path: absolute, existing, and reached without any symlink. */
  host: string;
  /** Path inside the zone: absolute, normalised, no '..'. */
  zone: string;
  readOnly: boolean;
  /** A directory lxzone made for this zone inside its state directory (an
   * image's volume on the zone's disk): exempt from the refusal of binds from
   * lxzone's directories. Never from a config (the schema has no such field). */
  lxzoneOwn?: true;
  /** The source keeps zone ids as they are (a volume: src/zone/volumes/): mounted
   * id-mapped onto the zone's host range. Set by the lifecycle, never from a config. */
  idmap?: true;
}

/**
 * A volume of lxzone's volume store (src/zone/volumes/) mounted in the zone:
 * a directory that outlives the zone, shared by every zone that names it,
 * its files owned by zone ids as such (each zone sees them as its own ids).
 * The lifecycle resolves it to a bind at each boot; a volume named here that
 * does not exist is made then (as dockerd does for `docker run -v NAME:/p`).
 */
export interface VolumeMount {
  /** The volume's name: [a-zA-Z0-9][a-zA-Z0-9_.-]+ (Docker's local volume names). */
  name: string;
  /** Path inside the zone: absolute, normalised, no '..'. */
  zone: string;
  readOnly: boolean;
  /** Made for this zone alone (Docker's anonymous volume, a 64-hex name): `docker rm -v` removes it with the zone. */
  anonymous?: boolean;
}

export interface TmpfsMount {
  /** Path inside the zone: absolute, normalised, no '..'. */
  path: string;
  sizeBytes: number;
  /** Permission bits of the tmpfs root (default 0o1777 when absent). */
  mode?: number;
  /** Mounted noexec (docker --tmpfs PATH:noexec): nothing on it is executed. */
  noexec?: boolean;
}

/** Filled in by the resources helper; only the shape is validated here. */
export interface ResourcesConfig {
  memoryBytes?: number;
  swapBytes?: number;
  cpus?: number;
  cpuShares?: number;
  pidsMax?: number;
  diskBytes?: number;
}

/** Filled in by the network helper; only the shape is validated here. */
export interface NetworkConfig {
  mode: 'none' | 'loopback' | 'zone';
  /** IPv4 address with optional prefix length, only with mode 'zone'. */
  address?: string;
  /** Reach the outside through NAT as the host (mode 'zone'; default off; Docker containers: on). */
  nat?: boolean;
  /** Host ports forwarded to the zone: "[HOSTIP:]HOSTPORT:ZONEPORT[/tcp|udp]" (mode 'zone'). */
  ports?: string[];
  /** A user-defined network (src/zone/network/networks.ts) by name: the zone plugs into its bridge
   *  instead of the host's default one, and resolves its peers' names there (mode 'zone'). */
  userNetwork?: string;
  /** Further names the zone has in its user network's DNS, besides its own name (compose's service name). */
  aliases?: string[];
  /** Further user-defined networks the zone is on besides its first one (`docker network connect`):
   *  one more interface each (eth1, eth2, … in this order at boot), a lasting address on each
   *  network, its names in each network's DNS. No default route or NAT through them. */
  extraNetworks?: ExtraNetwork[];
  /** 'host': the zone's /etc/resolv.conf is a file of lxzone's whatever its networks (Docker containers):
   *  its first user-defined network's DNS server, else the host's nameservers less the loopback ones (as
   *  dockerd writes it for the default bridge and none), rewritten in place when its networks change while it runs.
   *  Absent: only a zone whose first network is user-defined gets one; others see their root's own file. */
  resolvConf?: 'host';
}

export interface ExtraNetwork {
  /** A user-defined network (src/zone/network/networks.ts). */
  name: string;
  aliases?: string[];
  /** A static IPv4 address on it. */
  address?: string;
}

/** `no` | `on-failure` | `on-failure:N` | `always` | `unless-stopped`. */
export type RestartPolicyString = string;

export interface ZoneConfig {
  /** Format version of this file; absent means 1. */
  version?: 1;
  name: string;
  rootfs: RootfsConfig;
  hostname: string;
  /** What uname(2) reports as the release inside the zone (absent: the host's). */
  kernelVersion?: string;
  profile: string;
  /** Extra rules appended to the profile; validated by src/policy, not here. */
  extraRules: unknown[];
  /** A Docker/OCI seccomp profile, its JSON as Docker reads it (`docker run
   * --security-opt seccomp=FILE`), imported at each boot (src/policy/docker.ts)
   * and combined with the profile: per call the stricter decision wins, and
   * lxzone's own translations stay (src/policy/combine.ts). */
  seccomp?: Record<string, unknown>;
  /** The command the zone boots (under init when init is true). Absent: the
   * image's entrypoint+cmd, or /bin/sh. */
  command?: string[];
  env: Record<string, string>;
  /** Names of the image's Env the zone does not get (Docker's `-e NAME`
   * with NAME unset in the client: dockerd removes the image's NAME).
   * `env` still sets a name listed here. Absent: the whole image Env. */
  envUnset?: string[];
  /** Working directory of the command (absent: the image's WorkingDir, else /). */
  cwd?: string;
  /** `uid[:gid]` or `name[:group]`; names are resolved in the zone's
   * /etc/passwd and /etc/group when the zone boots. Absent: root (0:0). */
  user?: string;
  binds: BindMount[];
  /** Volumes of the volume store, by name (absent: none). */
  volumes?: VolumeMount[];
  tmpfs: TmpfsMount[];
  init: boolean;
  /** A system zone: the image's own init (/sbin/init, systemd) is pid 1 and
   * the zone stays up until halted (docs/parts/system-zones.md). Set by
   * create for a zone made without a command from a root that has an init;
   * `command` and `init` are then not used. */
  system?: boolean;
  resources?: ResourcesConfig;
  network?: NetworkConfig;
  restartPolicy: RestartPolicyString;
  /** The daemon holds the first process's stdin open for clients to write to (Docker's -i; zone-input.ts). */
  stdin?: boolean;
  /** The first process gets a terminal, its input from the daemon and its output into the zone's log (Docker's -t). */
  tty?: boolean;
}

/** Parsed form of `restartPolicy`. */
export type RestartPolicy =
  | { kind: 'no' }
  | { kind: 'always' }
  | { kind: 'unless-stopped' }
  | { kind: 'on-failure'; maxRetries?: number };
