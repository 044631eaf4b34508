// A Docker create request as an lxzone zone configuration. The zone is made
// by createZoneWith, the route every front end takes (validation, the
// zone's ids, its lasting address). What a zone cannot express is refused
// with a 400 that names it, never silently dropped.
import type { ZoneConfig } from '../../zone/config/types.js';
import type { ZoneMounts } from './container-mounts.js';
import type { ImageConfig } from '../../zone/image/manifests.js';
import { badRequest } from './errors.js';
import { endpointAliases } from './networks.js';
import { HOST_PATH_ENV, type DockerImage } from './image-model.js';
const ADJECTIVES = ['brave', 'calm', 'eager', 'keen', 'quiet', 'swift', 'bold', 'merry', 'tender', 'vivid'];
const NAMES = ['cerf', 'hopper', 'knuth', 'lovelace', 'ritchie', 'thompson', 'turing', 'wirth', 'liskov', 'joy'];

export interface CreateBody {
  Hostname?: string;
  User?: string;
  Env?: string[] | null;
  Cmd?: string[] | string | null;
  Entrypoint?: string[] | string | null;
  Image?: string;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  Tty?: boolean;
  OpenStdin?: boolean;
  /** --network NAME --network-alias A: the endpoint of each network, with its aliases;
   *  --network A --network B: one endpoint each (the first is NetworkMode's), with --ip's address. */
  NetworkingConfig?: { EndpointsConfig?: Record<string, { Aliases?: string[] | null; IPAMConfig?: { IPv4Address?: string } | null } | null> | null } | null;
  HostConfig?: {
    Binds?: string[] | null;
    Memory?: number;
    MemorySwap?: number;
    NanoCpus?: number;
    CpuShares?: number;
    PidsLimit?: number | null;
    RestartPolicy?: { Name?: string; MaximumRetryCount?: number };
    AutoRemove?: boolean;
    NetworkMode?: string;
    Init?: boolean | null;
    Privileged?: boolean;
    Dns?: string[] | null;
    DnsSearch?: string[] | null;
    DnsOptions?: string[] | null;
    SecurityOpt?: string[] | null;
    PortBindings?: Record<string, unknown> | null;
    PublishAllPorts?: boolean;
    Mounts?: unknown[] | null;
    VolumesFrom?: string[] | null;
    Tmpfs?: Record<string, string> | null;
  };
  /** `-v /PATH`: an anonymous volume there. */
  Volumes?: Record<string, unknown> | null;
  [k: string]: unknown;
}

const list = (v: string[] | string | null | undefined): string[] => (v == null ? [] : Array.isArray(v) ? v : [v]);

/** A Docker name as given (create, rename): Docker allows [a-zA-Z0-9][a-zA-Z0-9_.-]+. */
export function checkedName(requested: string): string {
  const n = requested.replace(/^\//, '');
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(n)) throw badRequest(`Invalid container name (${n}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  if (n.length > 253) throw badRequest(`Invalid container name (${n}): at most 253 characters`);
  return n;
}

/** The zone a new container is: its Docker name where that is a free zone name, else its id's first 12 digits. */
export function zoneNameFor(name: string, id: string, taken: (n: string) => boolean): string {
  return /^[a-z0-9][a-z0-9_.-]{0,62}$/.test(name) && !taken(name) ? name : id.slice(0, 12);
}

/** The Docker name of a new container: the requested one, or a free name made up as dockerd does. */
export function containerName(requested: string | null, taken: (n: string) => boolean): string {
  if (requested) return checkedName(requested);
  for (let i = 0; i < 1000; i++) {
    const n = `${ADJECTIVES[Math.floor(Math.random() * ADJECTIVES.length)]}_${NAMES[Math.floor(Math.random() * NAMES.length)]}${i > 20 ? i : ''}`;
    if (!taken(n)) return n;
  }
  throw badRequest('no free container name');
}

function restartPolicy(hc: CreateBody['HostConfig']): string {
  const p = hc?.RestartPolicy;
  const name = p?.Name ?? '';
  if (name === '' || name === 'no') return 'no';
  if (name === 'on-failure') return p?.MaximumRetryCount ? `on-failure:${p.MaximumRetryCount}` : 'on-failure';
  if (name === 'always' || name === 'unless-stopped') return name;
  throw badRequest(`invalid restart policy '${name}'`);
}

/**
 * `--security-opt seccomp=FILE`: the client sends the file's JSON inline
 * (`seccomp=<json>`; API < 1.24 clients a colon). The profile is checked by
 * the importer when the zone is created (a 400 naming what is wrong);
 * `unconfined` and `builtin` mean lxzone's own policy alone: a zone's filter
 * is never removed, it is what translates the zone's syscalls and keeps the
 * host's state out of reach (docs/docker-api.md).
 */
export function seccompProfile(opts: string[]): Record<string, unknown> | undefined {
  let out: Record<string, unknown> | undefined;
  for (const o of opts) {
    const m = /^seccomp[=:]([\s\S]*)$/.exec(o);
    if (!m) continue;
    const v = m[1]!.trim();
    if (v === 'unconfined' || v === 'builtin') {
      out = undefined;
      continue;
    }
    let doc: unknown;
    try {
      doc = JSON.parse(v);
    } catch (e) {
      throw badRequest(`Decoding seccomp profile failed: ${(e as Error).message}`);
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw badRequest('Decoding seccomp profile failed: not a JSON object');
    out = doc as Record<string, unknown>;
  }
  return out;
}

/**
 * Docker's rule for the command: --entrypoint replaces the image's
 * Entrypoint and drops its Cmd; a command given replaces Cmd. An empty
 * --entrypoint ("") resets it.
 */
export function dockerCommand(body: CreateBody, image: ImageConfig): string[] {
  const given = body.Entrypoint != null;
  const entry = given ? list(body.Entrypoint).filter((a, i, all) => !(all.length === 1 && a === '')) : (image.entrypoint ?? []);
  const cmd = list(body.Cmd).length > 0 ? list(body.Cmd) : given ? [] : (image.cmd ?? []);
  return [...entry, ...cmd];
}

/**
 * The container's own Env as dockerd makes it (moby's merge of the request
 * with the image, then ReplaceOrAppendEnvValues over its defaults): the
 * request's NAME=VALUE in order, the later winning; a PATH (when the image
 * has none) and HOSTNAME as defaults under them. `NAME` alone (`-e NAME`
 * unset in the client's environment) keeps the image's NAME out of the
 * container (envUnset: zoneProcess leaves it out at each start) and removes
 * a default of that name, as dockerd does; it never removes a NAME=VALUE of
 * the request itself. The image's Env is not copied here: the zone reads it
 * from its image at each start, under these.
 */
export function containerEnv(request: string[], imageConfig: ImageConfig, hostname: string): { env: Record<string, string>; envUnset: string[] } {
  const defaults: Record<string, string> = { HOSTNAME: hostname };
  if (imageConfig.env?.PATH === undefined) defaults.PATH = HOST_PATH_ENV.slice('PATH='.length);
  const env: Record<string, string> = { ...defaults };
  const unset = new Set<string>();
  for (const kv of request) {
    const i = kv.indexOf('=');
    if (i === 0 || kv === '') continue; // no name: nothing a process would see as a variable
    if (i < 0) {
      unset.add(kv);
      // moby keeps each default's slot: a bare NAME empties it even after a NAME=VALUE set it.
      if (Object.hasOwn(defaults, kv)) delete env[kv];
      continue;
    }
    env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return { env, envUnset: [...unset] };
}

/**
 * The zone configuration for a create request (the image resolved by the
 * caller, the command required). `ports`: the published ports, resolved by
 * ports.ts. A container reaches the outside through NAT, as Docker users
 * expect. `findNet`: what a --network name means (networks.ts). `mounts`:
 * the binds and volumes (container-mounts.ts).
 */
export function zoneConfigFor(
  name: string,
  id: string,
  body: CreateBody,
  image: DockerImage,
  imageConfig: ImageConfig,
  ports: string[] = [],
  findNet?: (ref: string) => { kind: 'bridge' | 'none' | 'user'; name: string } | undefined,
  mounts: Pick<ZoneMounts, 'binds' | 'volumes' | 'tmpfs'> = { binds: [], volumes: [], tmpfs: [] },
): ZoneConfig {
  const hc = body.HostConfig ?? {};
  if (hc.Privileged) throw badRequest('--privileged is not supported: every lxzone container is a zone');
  for (const [flag, v] of [['--dns', hc.Dns], ['--dns-search', hc.DnsSearch], ['--dns-option', hc.DnsOptions]] as const) {
    if (v?.length) throw badRequest(`${flag} is not supported: a container's resolv.conf names its first network's DNS server, or the host's nameservers`);
  }
  const seccomp = seccompProfile(hc.SecurityOpt ?? []);
  const command = dockerCommand(body, imageConfig);
  if (command.length === 0) throw badRequest('No command specified');
  const hostname = body.Hostname || id.slice(0, 12);
  const { env, envUnset } = containerEnv(body.Env ?? [], imageConfig, hostname);
  const net = hc.NetworkMode || 'default';
  const endpoints = body.NetworkingConfig?.EndpointsConfig ?? {};
  // The first network is NetworkMode's; every other endpoint is one more network (eth1, eth2, …), as
  // dockerd >= 25 takes `docker run --network A --network B` (the client sends one endpoint each).
  const keys = Object.keys(endpoints);
  const firstKey = keys.includes(net) ? net : keys.length === 1 ? keys[0] : undefined;
  const firstEp = firstKey === undefined ? undefined : endpoints[firstKey];
  const others = Object.entries(endpoints).filter(([k]) => k !== firstKey);
  const staticIp = (ep: typeof firstEp, where: string, user: boolean): string | undefined => {
    const ip = ep?.IPAMConfig?.IPv4Address || undefined;
    if (ip !== undefined && !user) throw badRequest(`user specified IP address is supported on user defined networks only (${where})`);
    return ip;
  };
  let network: ZoneConfig['network'];
  if (net === 'none') {
    if (ports.length > 0) throw badRequest('conflicting options: port publishing and the container type network mode');
    if (others.length > 0) throw badRequest('container cannot be disconnected from host network or connected to host network: none is its only network');
    network = { mode: 'loopback', resolvConf: 'host' };
  } else if (net === 'default' || net === 'bridge') {
    endpointAliases(firstEp?.Aliases, false);
    staticIp(firstEp, 'bridge', false);
    if (others.length > 0) throw badRequest('conflicting options: cannot attach both user-defined and non-user-defined network-modes');
    network = { mode: 'zone', nat: true, resolvConf: 'host', ...(ports.length ? { ports } : {}) };
  } else {
    const found = findNet?.(net);
    if (!found || found.kind === 'none') {
      throw badRequest(`network ${net} not found${/^(host|container:)/.test(net) ? `: lxzone containers use the default bridge, a user-defined network or none (${net.split(':')[0]} is not supported)` : ''}`);
    }
    const aliases = endpointAliases(firstEp?.Aliases, found.kind === 'user');
    const address = staticIp(firstEp, found.name, found.kind === 'user');
    const extraNetworks: NonNullable<NonNullable<ZoneConfig['network']>['extraNetworks']> = [];
    for (const [ref, ep] of others) {
      const x = findNet?.(ref);
      if (!x) throw badRequest(`network ${ref} not found`);
      if (x.kind !== 'user') throw badRequest('conflicting options: cannot attach both user-defined and non-user-defined network-modes');
      if (x.name === found.name || extraNetworks.some((e) => e.name === x.name)) throw badRequest(`network "${x.name}" is specified multiple times`);
      const xa = endpointAliases(ep?.Aliases, true);
      const xip = staticIp(ep, x.name, true);
      extraNetworks.push({ name: x.name, ...(xa.length ? { aliases: xa } : {}), ...(xip ? { address: xip } : {}) });
    }
    if (extraNetworks.length > 0 && found.kind !== 'user') throw badRequest('conflicting options: cannot attach both user-defined and non-user-defined network-modes');
    network = {
      mode: 'zone',
      nat: true,
      resolvConf: 'host',
      ...(ports.length ? { ports } : {}),
      ...(address ? { address } : {}),
      ...(found.kind === 'user' ? { userNetwork: found.name, ...(aliases.length ? { aliases } : {}) } : {}),
      ...(extraNetworks.length ? { extraNetworks } : {}),
    };
  }
  const resources: NonNullable<ZoneConfig['resources']> = {};
  if (hc.Memory) resources.memoryBytes = hc.Memory;
  if (hc.NanoCpus) resources.cpus = hc.NanoCpus / 1e9;
  if (hc.CpuShares) resources.cpuShares = hc.CpuShares;
  if (hc.PidsLimit && hc.PidsLimit > 0) resources.pidsMax = hc.PidsLimit;
  return {
    name,
    rootfs: image.kind === 'host' ? { type: 'host' } : { type: 'store', ref: image.ref, digest: image.record.digest },
    hostname,
    profile: 'default',
    extraRules: [],
    ...(seccomp ? { seccomp } : {}),
    command,
    env,
    ...(envUnset.length ? { envUnset } : {}),
    ...(body.WorkingDir ? { cwd: body.WorkingDir } : {}),
    ...(body.User ? { user: body.User } : {}),
    binds: mounts.binds,
    ...(mounts.volumes.length ? { volumes: mounts.volumes } : {}),
    tmpfs: mounts.tmpfs,
    init: hc.Init === true,
    ...(Object.keys(resources).length ? { resources } : {}),
    network,
    restartPolicy: restartPolicy(hc),
    // -i: the daemon holds its stdin (docker attach writes to it); -t: a terminal (zone-input.ts).
    ...(body.OpenStdin ? { stdin: true } : {}),
    ...(body.Tty ? { tty: true } : {}),
  };
}
