// The networks Docker clients see: "bridge" (lxzone's default bridge, where
// every container with a network lives unless it names another), "none"
// (loopback only), and user-defined networks, each an lxzone network of its
// own (src/zone/network/networks.ts: a bridge, a subnet, anti-spoofing per
// port, nothing in from other networks, a DNS resolver at its gateway). A
// container may be on several: the zone's config names its first network
// (network.userNetwork, or the default bridge) and the further ones
// (network.extraNetworks); connect and disconnect change them, live on a
// running container (an interface per network, network-change.ts).
import { createHash } from 'node:crypto';
import { resolveBridge, type BridgeConfig } from '../../zone/network/addressing.js';
import { Ipam, type Lease } from '../../zone/network/ipam.js';
import { ipamDir } from '../../zone/lifecycle/options.js';
import type { NetworkRecord } from '../../zone/network/networks.js';
import type { NetworkConfig, ZoneConfig } from '../../zone/config/types.js';
import type { ZoneDetails } from '../../zone/lifecycle/types.js';
import type { DockerBackend } from './backend.js';
import { dockerName } from './container-store.js';
import type { Ctx } from './context.js';
import { badRequest, conflict, DockerError, notFound } from './errors.js';
import type { Route } from './router.js';

const idOf = (name: string) => createHash('sha256').update(`lxzone-network:${name}`).digest('hex');
const PREDEFINED = ['bridge', 'none', 'host'];

type NetRef = { kind: 'bridge' | 'none'; name: string; id: string } | { kind: 'user'; name: string; id: string; rec: NetworkRecord };

interface CreateNetworkBody {
  Name?: string;
  Driver?: string;
  Internal?: boolean;
  Ingress?: boolean;
  ConfigOnly?: boolean;
  ConfigFrom?: { Network?: string } | null;
  IPAM?: { Driver?: string; Config?: { Subnet?: string; Gateway?: string; IPRange?: string }[] | null } | null;
  Labels?: Record<string, string> | null;
  Options?: Record<string, string> | null;
}

/** The network a container reference (a name or an ID prefix) means, or undefined. */
export function findNetwork(b: DockerBackend, ref: string): NetRef | undefined {
  for (const n of ['bridge', 'none'] as const) if (ref === n) return { kind: n, name: n, id: idOf(n) };
  const recs = b.networks.list();
  const byName = recs.find((r) => r.name === ref);
  if (byName) return { kind: 'user', name: byName.name, id: byName.id, rec: byName };
  if (ref.length === 0) return undefined;
  const hits: NetRef[] = [
    ...(['bridge', 'none'] as const).filter((n) => idOf(n).startsWith(ref)).map((n) => ({ kind: n, name: n, id: idOf(n) }) as NetRef),
    ...recs.filter((r) => r.id.startsWith(ref)).map((r) => ({ kind: 'user', name: r.name, id: r.id, rec: r }) as NetRef),
  ];
  if (hits.length > 1) throw badRequest(`network ${ref} is ambiguous (${hits.length} matches found based on ID prefix)`);
  return hits[0];
}

/** The network a zone's config puts it on, by Docker's name for it. */
export function networkNameOf(cfg: ZoneConfig | undefined): string {
  const n = cfg?.network;
  if (!n || n.mode !== 'zone') return 'none';
  return n.userNetwork ?? 'bridge';
}

/** Every network a zone's config puts it on, the first one first, with the zone's aliases there. */
export function networksOf(cfg: ZoneConfig | undefined): { name: string; aliases: string[] }[] {
  const first = networkNameOf(cfg);
  if (first === 'none') return [{ name: 'none', aliases: [] }];
  return [{ name: first, aliases: cfg?.network?.aliases ?? [] }, ...(cfg?.network?.extraNetworks ?? []).map((x) => ({ name: x.name, aliases: x.aliases ?? [] }))];
}

/** A container's endpoint on one of its networks, as inspect and network inspect show it. */
export interface Endpoint {
  name: string;
  id: string;
  aliases: string[];
  prefixLen: number;
  gateway4: string;
  gateway6: string;
  lease?: Lease;
}

/** The bridge of a network Docker names ("bridge" or a user-defined one). */
function bridgeConfigOf(b: DockerBackend, name: string): BridgeConfig | undefined {
  if (name === 'bridge') return b.opts.bridge;
  const rec = b.networks.get(name);
  return rec ? b.networks.bridgeConfig(rec) : undefined;
}

/** The zone's endpoints on each of its networks, with its lasting address there (none: no endpoint with an address). */
export async function endpointsOf(b: DockerBackend, zone: string, cfg: ZoneConfig | undefined): Promise<Endpoint[]> {
  const out: Endpoint[] = [];
  for (const n of networksOf(cfg)) {
    const id = findNetwork(b, n.name)?.id ?? n.name;
    const bc = n.name === 'none' ? undefined : bridgeConfigOf(b, n.name);
    if (!bc) {
      out.push({ name: n.name, id, aliases: n.aliases, prefixLen: 0, gateway4: '', gateway6: '' });
      continue;
    }
    const br = resolveBridge(bc);
    const lease = await new Ipam({ stateDir: ipamDir(b.opts.store), bridge: bc }).get(zone).catch(() => undefined);
    out.push({ name: n.name, id, aliases: n.aliases, prefixLen: br.prefixLen, gateway4: br.gateway4, gateway6: br.gateway6, ...(lease ? { lease } : {}) });
  }
  return out;
}

/** The zones whose config names a user network (running or not): it cannot go while they are there. */
function usersOf(b: DockerBackend, name: string): string[] {
  const out: string[] = [];
  for (const z of b.opts.store.list()) {
    try {
      if (networksOf(b.opts.store.loadConfig(z)).some((n) => n.name === name)) out.push(z);
    } catch {
      // an unreadable config names no network we can see
    }
  }
  return out;
}

export function networkRoutes(b: DockerBackend): Route[] {
  const need = (ctx: Ctx): NetRef => {
    const ref = ctx.params.id ?? '';
    const n = findNetwork(b, ref);
    if (!n) throw notFound(`network ${ref} not found`);
    return n;
  };
  const view = async (n: NetRef) => {
    const br = n.kind === 'user' ? resolveBridge(b.networks.bridgeConfig(n.rec)) : resolveBridge(b.opts.bridge);
    const containers: Record<string, unknown> = {};
    for (const m of b.containers.list()) {
      if (!b.manager.runningNames().includes(m.zone)) continue;
      const z: ZoneDetails | undefined = await b.manager.inspect(m.zone).catch(() => undefined);
      if (!z || !networksOf(z.config).some((x) => x.name === n.name)) continue;
      const lease = n.kind === 'none' ? undefined : (await endpointsOf(b, m.zone, z.config)).find((e) => e.name === n.name)?.lease;
      containers[m.Id] = {
        Name: dockerName(m),
        EndpointID: createHash('sha256').update(`${n.id}:${m.Id}`).digest('hex'),
        MacAddress: '',
        IPv4Address: lease ? `${lease.ipv4}/${br.prefixLen}` : '',
        IPv6Address: lease ? `${lease.ipv6}/${lease.prefixLen6}` : '',
      };
    }
    const hasNet = n.kind !== 'none';
    return {
      Name: n.name,
      Id: n.id,
      Created: n.kind === 'user' ? n.rec.created : '0001-01-01T00:00:00Z',
      Scope: 'local',
      Driver: hasNet ? 'bridge' : 'null',
      EnableIPv6: hasNet,
      IPAM: { Driver: 'default', Options: null, Config: hasNet ? [{ Subnet: br.subnet, Gateway: br.gateway4 }, { Subnet: br.ipv6Prefix, Gateway: br.gateway6 }] : [] },
      Internal: n.kind === 'user' && n.rec.internal === true,
      Attachable: false,
      Ingress: false,
      ConfigFrom: { Network: '' },
      ConfigOnly: false,
      Containers: containers,
      Options: hasNet ? { 'com.docker.network.bridge.name': br.name } : {},
      Labels: n.kind === 'user' ? n.rec.labels : {},
    };
  };
  const all = (): NetRef[] => [
    { kind: 'bridge', name: 'bridge', id: idOf('bridge') },
    { kind: 'none', name: 'none', id: idOf('none') },
    ...b.networks.list().map((rec) => ({ kind: 'user', name: rec.name, id: rec.id, rec }) as NetRef),
  ];
  const matches = (n: NetRef, f: Record<string, string[]>): boolean => {
    const labels = n.kind === 'user' ? n.rec.labels : {};
    for (const [k, vals] of Object.entries(f)) {
      let ok: boolean;
      if (k === 'name') ok = vals.some((x) => n.name.includes(x));
      else if (k === 'id') ok = vals.some((x) => n.id.startsWith(x));
      else if (k === 'driver') ok = vals.includes(n.kind === 'none' ? 'null' : 'bridge');
      else if (k === 'type') ok = vals.includes(n.kind === 'user' ? 'custom' : 'builtin');
      else if (k === 'scope') ok = vals.includes('local');
      else if (k === 'label') {
        ok = vals.every((x) => {
          const i = x.indexOf('=');
          return i < 0 ? x in labels : labels[x.slice(0, i)] === x.slice(i + 1);
        });
      } else if (k === 'dangling') ok = true; // prune's filter: every user network is a candidate
      else throw badRequest(`invalid filter '${k}'`);
      if (!ok) return false;
    }
    return true;
  };
  const container = (ref: unknown) => {
    const m = typeof ref === 'string' ? b.containers.find(ref) : undefined;
    if (!m) throw notFound(`No such container: ${String(ref)}`);
    return m;
  };
  const changeNetwork = async (zone: string, next: NetworkConfig) => {
    try {
      await b.manager.changeNetwork(zone, next);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'EBUSY') throw conflict((e as Error).message);
      if (code === 'ENOENT') throw notFound((e as Error).message);
      if (code === 'EADDRINUSE' || code === 'EINVAL' || code === 'ERANGE') throw badRequest((e as Error).message);
      throw e;
    }
  };
  const remove = async (n: NetRef) => {
    if (n.kind !== 'user') throw new DockerError(403, `${n.name} is a pre-defined network and cannot be removed`);
    const users = usersOf(b, n.name);
    if (users.length > 0) throw new DockerError(403, `error while removing network: network ${n.name} id ${n.id} has active endpoints (${users.join(', ')})`);
    await b.networks.remove(n.name, users);
    b.events.emit('network', 'destroy', n.id, { name: n.name, type: 'bridge' });
  };

  return [
    {
      method: 'GET',
      path: '/networks',
      doc: 'network ls: "bridge" (lxzone\'s bridge), "none" and the user-defined networks; filters name, id, driver, type, label, scope',
      handler: async (ctx) => {
        const f = ctx.filters();
        const out = [];
        for (const n of all()) if (matches(n, f)) out.push(await view(n));
        return out;
      },
    },
    { method: 'GET', path: '/networks/:id', doc: 'network inspect: subnets and gateways, running containers with their addresses, labels', handler: async (ctx) => view(need(ctx)) },
    {
      method: 'POST',
      path: '/networks/create',
      doc: 'network create [--subnet CIDR] [--subnet V6/64] [--internal] [--label]: a bridge of its own (a /24 of 10.224.0.0/12 unless --subnet), its own IPAM, anti-spoofing per port, no traffic in from other networks, a DNS server at its gateway (names and aliases of its containers, the rest forwarded to the host\'s resolvers); IPv6 always on (a ULA /64 unless a v6 --subnet, which must be a /64); --internal: no NAT, no default route, no published ports, no DNS forwarding (nothing of the network reaches outside it); driver bridge only (400 naming the driver)',
      handler: async (ctx) => {
        const body = await ctx.body<CreateNetworkBody>();
        const name = body.Name ?? '';
        if (!name) throw badRequest('network name must not be empty');
        if (PREDEFINED.includes(name)) throw new DockerError(403, `operation is not permitted on predefined ${name} network`);
        if (body.Driver && body.Driver !== 'bridge') {
          throw badRequest(`network driver ${body.Driver} is not supported by lxzone: its user-defined networks are bridges (driver bridge; overlay, macvlan, ipvlan, host and null networks cannot be made)`);
        }
        if (body.Ingress || body.ConfigOnly || body.ConfigFrom?.Network) throw badRequest('swarm and config-only networks are not supported by lxzone');
        if (body.IPAM?.Driver && body.IPAM.Driver !== 'default') throw badRequest(`IPAM driver ${body.IPAM.Driver} is not supported: lxzone has its own`);
        if (findNetwork(b, name)?.name === name) throw conflict(`network with name ${name} already exists`);
        const v4 = (body.IPAM?.Config ?? []).filter((c) => c.Subnet && !c.Subnet.includes(':'));
        const v6 = (body.IPAM?.Config ?? []).filter((c) => c.Subnet?.includes(':'));
        if (v6.length > 1) throw badRequest('lxzone networks have one IPv6 subnet');
        // Every lxzone network has IPv6 (a ULA /64 unless given): --ipv6 is taken, never needed.
        const ipv6Prefix = v6[0]?.Subnet;
        if (ipv6Prefix !== undefined) {
          let br6;
          try {
            br6 = resolveBridge({ subnet: '10.0.0.0/24', ipv6Prefix });
          } catch (e) {
            throw badRequest(`--subnet ${ipv6Prefix}: ${(e as Error).message.replace(/^network\.ipv6Prefix: /, '')} (an lxzone network's IPv6 subnet is a /64)`);
          }
          if (v6[0]!.Gateway && v6[0]!.Gateway !== br6.gateway6) throw badRequest(`the IPv6 gateway of ${br6.ipv6Prefix} is ${br6.gateway6} in lxzone`);
          if (v6[0]!.IPRange) throw badRequest('--ip-range is not supported by lxzone: the whole subnet is the pool');
        }
        if (v4.length > 1) throw badRequest('lxzone networks have one IPv4 subnet');
        const subnet = v4[0]?.Subnet;
        if (subnet) {
          const br = resolveBridge({ subnet });
          if (v4[0]!.Gateway && v4[0]!.Gateway !== br.gateway4) throw badRequest(`the gateway of ${br.subnet} is its first address, ${br.gateway4}, in lxzone`);
          if (v4[0]!.IPRange) throw badRequest('--ip-range is not supported by lxzone: the whole subnet is the pool');
        }
        const rec = await b.networks.create(name, { ...(subnet ? { subnet } : {}), ...(ipv6Prefix ? { ipv6Prefix } : {}), ...(body.Internal ? { internal: true } : {}), labels: body.Labels ?? {} });
        await b.dns?.refresh();
        b.events.emit('network', 'create', rec.id, { name, type: 'bridge' });
        return { status: 201, body: { Id: rec.id, Warning: '' } };
      },
    },
    {
      method: 'DELETE',
      path: '/networks/:id',
      doc: 'network rm: a user-defined network with its bridge, nftables tables, leases and DNS server; refused (403) while a container names it; the predefined ones never (403)',
      handler: async (ctx) => {
        await remove(need(ctx));
        await b.dns?.refresh();
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      path: '/networks/:id/connect',
      doc: 'network connect [--alias] [--ip]: one more network for a container, running or stopped (a running one gets an interface at once, named as dockerd names it (one past the highest ethN it has had since it started), with a lasting address there; its name and aliases resolve in that network\'s DNS); a container without a network (none) gets its first one, running or stopped (a running one: its interface, default route, NAT and published ports at once, and that network\'s DNS server in its resolv.conf); the default bridge too, as a further network of a container on a user-defined one (no aliases there)',
      handler: async (ctx) => {
        const n = need(ctx);
        const body = await ctx.body<{ Container?: string; EndpointConfig?: { Aliases?: string[] | null; IPAMConfig?: { IPv4Address?: string } | null } | null }>();
        const m = container(body.Container);
        const cfg = b.opts.store.loadConfig(m.zone);
        const on = networksOf(cfg).map((x) => x.name);
        if (on.includes(n.name)) throw new DockerError(403, `endpoint with name ${dockerName(m)} already exists in network ${n.name}`);
        const aliases = endpointAliases(body.EndpointConfig?.Aliases, n.kind === 'user');
        const address = body.EndpointConfig?.IPAMConfig?.IPv4Address || undefined;
        let next: NetworkConfig;
        if (on[0] === 'none') {
          next = networkFor(n, cfg.network, aliases, address);
        } else if (n.kind === 'none') {
          throw new DockerError(403, `container ${dockerName(m)} is on network ${on[0]}: a container with networks cannot also be on none`);
        } else {
          // The default bridge as a further network too (eth1, …): a user-defined network first, then bridge.
          if (n.kind === 'bridge' && address) throw badRequest('user specified IP address is supported on user defined networks only');
          next = { ...cfg.network!, extraNetworks: [...(cfg.network?.extraNetworks ?? []), { name: n.name, ...(aliases.length ? { aliases } : {}), ...(address ? { address } : {}) }] };
        }
        await changeNetwork(m.zone, next);
        b.events.emit('network', 'connect', n.id, { name: n.name, type: 'bridge', container: m.Id });
        return { status: 200 };
      },
    },
    {
      method: 'POST',
      path: '/networks/:id/disconnect',
      doc: 'network disconnect: a container leaves the network, running or stopped (its interface there goes at once, its address goes back); leaving its first network makes the next one its first (default route and NAT through it), or leaves it loopback only as dockerd leaves a container without networks (its resolv.conf then names the host\'s nameservers, as a --network none container\'s); disconnect none from a container on none is taken (dockerd\'s step before a connect) and changes nothing',
      handler: async (ctx) => {
        const n = need(ctx);
        const body = await ctx.body<{ Container?: string; Force?: boolean }>();
        const m = container(body.Container);
        const cfg = b.opts.store.loadConfig(m.zone);
        const on = networksOf(cfg).map((x) => x.name);
        // dockerd's way to a network for a container on none: leave none first (here a container without networks is on none: nothing to do).
        if (n.name === 'none' && on[0] === 'none') return { status: 200 };
        if (!on.includes(n.name) || n.name === 'none') throw new DockerError(403, `container ${dockerName(m)} is not connected to network ${n.name}`);
        const extra = cfg.network?.extraNetworks ?? [];
        let next: NetworkConfig;
        if (on[0] !== n.name) next = { ...cfg.network!, extraNetworks: extra.filter((x) => x.name !== n.name) };
        else if (extra.length === 0) next = { mode: 'loopback', ...dnsOf(cfg.network) };
        else {
          const [first, ...rest] = extra;
          const { userNetwork: _u, aliases: _a, address: _ad, extraNetworks: _e, ...keep } = cfg.network!;
          // The default bridge as the next first network: no userNetwork (and no aliases there).
          const user = first!.name !== 'bridge';
          next = { ...keep, ...(user ? { userNetwork: first!.name } : {}), ...(user && first!.aliases?.length ? { aliases: first!.aliases } : {}), ...(first!.address ? { address: first!.address } : {}), ...(rest.length ? { extraNetworks: rest } : {}) };
        }
        if (next.extraNetworks?.length === 0) delete next.extraNetworks;
        await changeNetwork(m.zone, next);
        b.events.emit('network', 'disconnect', n.id, { name: n.name, type: 'bridge', container: m.Id });
        return { status: 200 };
      },
    },
    {
      method: 'POST',
      path: '/networks/prune',
      doc: 'network prune: the user-defined networks no container names (label filters taken)',
      handler: async (ctx) => {
        const f = ctx.filters();
        const deleted: string[] = [];
        for (const n of all()) {
          if (n.kind !== 'user' || !matches(n, f) || usersOf(b, n.name).length > 0) continue;
          await remove(n);
          deleted.push(n.name);
        }
        await b.dns?.refresh();
        return { NetworksDeleted: deleted.length ? deleted : null };
      },
    },
  ];
}

const ALIAS_RE = /^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/;

/** Network aliases (--network-alias, compose's service names): DNS names on a user-defined network only, as dockerd. */
export function endpointAliases(given: string[] | null | undefined, userNetwork: boolean): string[] {
  const out = [...new Set(given ?? [])];
  if (out.length === 0) return out;
  if (!userNetwork) throw badRequest('network-scoped alias is supported only for containers in user defined networks');
  if (out.length > 32) throw badRequest('at most 32 network aliases');
  for (const a of out) if (!ALIAS_RE.test(a)) throw badRequest(`invalid network alias ${JSON.stringify(a)}: a DNS name of 1-63 of A-Z a-z 0-9 _ . -`);
  return out;
}

/** The zone's network config on network `n`, keeping what it had (NAT, published ports) where it still applies. */
export function networkFor(n: NetRef, old: NetworkConfig | undefined, aliases: string[], address?: string): NetworkConfig {
  if (n.kind === 'none') return { mode: 'loopback', ...dnsOf(old) };
  const keep = old?.mode === 'zone' ? { nat: old.nat ?? true, ...(old.ports?.length ? { ports: old.ports } : {}) } : { nat: true };
  return {
    mode: 'zone',
    ...keep,
    ...dnsOf(old),
    ...(address ? { address } : {}),
    ...(n.kind === 'user' ? { userNetwork: n.name, ...(aliases.length ? { aliases } : {}) } : {}),
  };
}

/** The container's resolv.conf rule (network.resolvConf), kept whatever its networks become. */
const dnsOf = (old: NetworkConfig | undefined): Pick<NetworkConfig, 'resolvConf'> => (old?.resolvConf ? { resolvConf: old.resolvConf } : {});
