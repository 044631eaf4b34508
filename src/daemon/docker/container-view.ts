// A zone as Docker shows a container: the summary of `docker ps` and the
// document of `docker inspect`, from the zone's state and the container's
// Docker metadata. The address is the zone's lease, kept from create to rm.
import type { ZoneDetails, ZoneInfo } from '../../zone/lifecycle/types.js';
import { dockerName, type ContainerMeta } from './container-store.js';
import { portBindings, portsList, portsMap } from './ports.js';
import { bindsView, mountsView } from './container-mounts.js';

export type DockerState = 'created' | 'running' | 'paused' | 'restarting' | 'exited' | 'dead' | 'removing';

export function dockerState(m: ContainerMeta, z: ZoneInfo): DockerState {
  if (z.state === 'running' || z.state === 'booting' || z.state === 'halting') return m.paused ? 'paused' : 'running';
  if (z.state === 'restarting') return 'restarting';
  if (z.state === 'broken') return 'dead';
  return z.lastExit ? 'exited' : 'created';
}

function ago(iso: string | undefined): string {
  if (!iso) return '';
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 1000));
  if (s < 1) return 'Less than a second';
  if (s < 60) return `${s} second${s === 1 ? '' : 's'}`;
  if (s < 3600) return `${Math.floor(s / 60)} minute${s < 120 ? '' : 's'}`;
  if (s < 86400) return `${Math.floor(s / 3600)} hour${s < 7200 ? '' : 's'}`;
  return `${Math.floor(s / 86400)} days`;
}

export function statusText(m: ContainerMeta, z: ZoneInfo): string {
  switch (dockerState(m, z)) {
    case 'running':
      return `Up ${ago(z.startedAt)}`;
    case 'paused':
      return `Up ${ago(z.startedAt)} (Paused)`;
    case 'restarting':
      return `Restarting (${z.lastExit?.exitCode ?? 0}) ${ago(z.lastExit?.at)} ago`;
    case 'exited':
      return `Exited (${z.lastExit?.exitCode ?? 0}) ${ago(z.lastExit?.at)} ago`;
    case 'dead':
      return 'Dead';
    default:
      return 'Created';
  }
}

const list = (v: unknown): string[] => (v == null ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

function command(m: ContainerMeta): { path: string; args: string[] } {
  const all = [...list(m.Config.Entrypoint), ...list(m.Config.Cmd)];
  return { path: all[0] ?? '', args: all.slice(1) };
}

function networks(z: ZoneInfo, net: NetView, shortId: string) {
  if (z.network !== 'zone') return { none: { IPAddress: '', IPPrefixLen: 0, Gateway: '', MacAddress: '', NetworkID: net.id ?? 'none', EndpointID: '' } };
  const name = net.name ?? 'bridge';
  // On a user-defined network dockerd lists the short ID among the aliases (compose looks for it there).
  const aliases = name === 'bridge' ? null : [...(net.aliases ?? []), shortId];
  // Its further networks (docker network connect), each with the container's address there.
  const more = Object.fromEntries(
    (net.extra ?? []).map((x) => [
      x.name,
      {
        NetworkID: x.id,
        EndpointID: `${z.name}:${x.name}`,
        Gateway: x.gateway,
        IPAddress: x.ipv4 ?? '',
        IPPrefixLen: x.prefixLen,
        IPv6Gateway: x.gateway6,
        GlobalIPv6Address: x.ipv6 ?? '',
        GlobalIPv6PrefixLen: x.ipv6 ? 64 : 0,
        MacAddress: '',
        Aliases: [...x.aliases, shortId],
        DNSNames: [z.name, ...x.aliases, shortId],
      },
    ]),
  );
  return {
    [name]: {
      NetworkID: net.id ?? 'bridge',
      EndpointID: z.name,
      Gateway: net.gateway ?? '',
      IPAddress: z.ipv4 ?? '',
      IPPrefixLen: net.prefixLen,
      IPv6Gateway: '',
      GlobalIPv6Address: z.ipv6 ?? '',
      GlobalIPv6PrefixLen: z.ipv6 ? 64 : 0,
      MacAddress: '',
      Aliases: aliases,
      ...(aliases ? { DNSNames: [z.name, ...aliases] } : {}),
    },
    ...more,
  };
}

export interface NetView {
  prefixLen: number;
  gateway?: string;
  /** Docker's name of the container's network ("bridge", "none" or a user-defined one) and its ID. */
  name?: string;
  id?: string;
  aliases?: string[];
  /** Its further networks (network.extraNetworks), with its addresses there. */
  extra?: { name: string; id: string; aliases: string[]; prefixLen: number; gateway: string; gateway6: string; ipv4?: string; ipv6?: string }[];
}

/** `volumeDir`: where a volume's data is (Mounts' Source), as inspect shows it. */
export function summaryOf(m: ContainerMeta, z: ZoneDetails, net: NetView, volumeDir: (name: string) => string = (n) => n) {
  const c = command(m);
  const state = dockerState(m, z);
  return {
    Id: m.Id,
    Names: [`/${dockerName(m)}`],
    Image: m.Image,
    ImageID: m.ImageID ?? '',
    Command: [c.path, ...c.args].join(' '),
    Created: Math.floor(Date.parse(m.Created) / 1000),
    Ports: portsList(z.config?.network?.ports, state === 'running' || state === 'paused'),
    Labels: (m.Config.Labels as Record<string, string> | null) ?? {},
    State: state,
    Status: statusText(m, z),
    HostConfig: { NetworkMode: net.name ?? (z.network === 'zone' ? 'bridge' : 'none') },
    NetworkSettings: { Networks: networks(z, net, m.Id.slice(0, 12)) },
    // ps --format '{{.Mounts}}' shows each one's Name (a volume) or Source (a bind), as dockerd's list does.
    Mounts: mountsView(z.config, volumeDir),
  };
}

/**
 * Config.Env as dockerd shows it: the image's Env under the container's,
 * less the names the request gave alone (`-e NAME` unset in the client),
 * which are listed as such ("NAME", no '='), as dockerd keeps them.
 */
function envView(imageEnv: Record<string, string>, cfg: ZoneDetails['config']): string[] {
  const unset = cfg?.envUnset ?? [];
  const image = Object.entries(imageEnv).filter(([k]) => !unset.includes(k));
  const own = cfg?.env ?? {};
  return [
    ...Object.entries({ ...Object.fromEntries(image), ...own }).map(([k, v]) => `${k}=${v}`),
    ...unset.filter((k) => !Object.hasOwn(own, k)),
  ];
}

/**
 * `imageEnv`: the image's Env, under the container's (-e wins), as dockerd
 * shows the merged environment; the zone's config keeps only the container's.
 */
export function inspectOf(m: ContainerMeta, z: ZoneDetails, net: NetView, imageEnv: Record<string, string> = {}, volumeDir: (name: string) => string = (n) => n) {
  const c = command(m);
  const state = dockerState(m, z);
  const nets = networks(z, net, m.Id.slice(0, 12));
  const first = Object.values(nets)[0] as { Gateway?: string; IPAddress?: string; IPPrefixLen?: number; GlobalIPv6Address?: string; GlobalIPv6PrefixLen?: number } | undefined;
  const cfg = z.config;
  return {
    Id: m.Id,
    Created: m.Created,
    Path: c.path,
    Args: c.args,
    State: {
      Status: state,
      Running: state === 'running' || state === 'paused',
      Paused: state === 'paused',
      Restarting: state === 'restarting',
      OOMKilled: z.startedAt !== undefined ? m.oomRun === z.startedAt : m.oomKilled === true,
      Dead: state === 'dead',
      Pid: z.pid ?? 0,
      ExitCode: z.lastExit?.exitCode ?? 0,
      Error: z.lastExit?.error ?? '',
      StartedAt: z.startedAt ?? '0001-01-01T00:00:00Z',
      FinishedAt: state === 'running' ? '0001-01-01T00:00:00Z' : (z.lastExit?.at ?? '0001-01-01T00:00:00Z'),
    },
    Image: m.ImageID ?? '',
    ResolvConfPath: '',
    HostnamePath: '',
    HostsPath: '',
    LogPath: z.paths.logs.stdout,
    Name: `/${dockerName(m)}`,
    RestartCount: z.restarts ?? 0,
    Driver: 'lxzone',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: {
      ...m.HostConfig,
      Binds: bindsView(cfg),
      NetworkMode: net.name ?? (z.network === 'zone' ? 'bridge' : 'none'),
      PortBindings: portBindings(cfg?.network?.ports),
      RestartPolicy: (m.HostConfig.RestartPolicy as object) ?? { Name: 'no', MaximumRetryCount: 0 },
      Memory: cfg?.resources?.memoryBytes ?? 0,
      NanoCpus: cfg?.resources?.cpus ? Math.round(cfg.resources.cpus * 1e9) : 0,
      PidsLimit: cfg?.resources?.pidsMax ?? null,
    },
    GraphDriver: { Name: 'lxzone', Data: { Root: cfg?.rootfs.type === 'host' ? '/ (host, read-only)' : z.paths.zone } },
    Mounts: mountsView(cfg, volumeDir),
    Config: {
      Hostname: cfg?.hostname ?? '',
      Domainname: '',
      User: cfg?.user ?? '',
      AttachStdin: m.Config.AttachStdin === true,
      AttachStdout: m.Config.AttachStdout === true,
      AttachStderr: m.Config.AttachStderr === true,
      // The client picks raw or multiplexed streams, and whether to send stdin, from these.
      Tty: m.Config.Tty === true,
      OpenStdin: m.Config.OpenStdin === true,
      StdinOnce: m.Config.StdinOnce === true,
      Env: envView(imageEnv, cfg),
      Cmd: m.Config.Cmd ?? null,
      Image: m.Image,
      Volumes: (m.Config.Volumes as Record<string, object> | null | undefined) ?? null,
      WorkingDir: cfg?.cwd ?? '',
      Entrypoint: m.Config.Entrypoint ?? null,
      OnBuild: null,
      Labels: (m.Config.Labels as Record<string, string> | null) ?? {},
    },
    NetworkSettings: {
      Bridge: '',
      SandboxID: '',
      HairpinMode: false,
      Ports: portsMap(cfg?.network?.ports, state === 'running' || state === 'paused'),
      SandboxKey: '',
      Gateway: first?.Gateway ?? '',
      IPAddress: first?.IPAddress ?? '',
      IPPrefixLen: first?.IPPrefixLen ?? 0,
      GlobalIPv6Address: first?.GlobalIPv6Address ?? '',
      GlobalIPv6PrefixLen: first?.GlobalIPv6PrefixLen ?? 0,
      IPv6Gateway: '',
      MacAddress: '',
      Networks: nets,
    },
  };
}
