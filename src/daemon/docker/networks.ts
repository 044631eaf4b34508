// The networks Docker clients see: "bridge" (lxzone's default bridge, where
// every container with a network lives unless it names another), "none"
// (loopback only), and user-defined networks, each an lxzone network of its
// own (src/zone/network/networks.ts: a bridge, a subnet, anti-spoofing per
// port, nothing in from other networks, a DNS resolver at its gateway). A
// container is on one network at a time: the zone's config names it, so
// connect and disconnect move a stopped container (network-change.ts).
import { createHash } from 'node:crypto';
import { resolveBridge } from '../../zone/network/addressing.js';
import type { NetworkRecord } from '../../zone/network/networks.js';
import type { NetworkConfig, ZoneConfig } from '../../zone/config/types.js';
import type { ZoneDetails } from '../../zone/lifecycle/types.js';
import type { DockerBackend } from './backend.js';
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

/** The zones whose config names a user network (running or not): it cannot go while they are there. */
function usersOf(b: DockerBackend, name: string): string[] {
  const out: string[] = [];
  for (const z of b.opts.store.list()) {
    try {
      if (b.opts.store.loadConfig(z).network?.userNetwork === name) out.push(z);
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
      if (!z || networkNameOf(z.config) !== n.name) continue;
      containers[m.Id] = {
        Name: m.zone,
        EndpointID: createHash('sha256').update(`${n.id}:${m.Id}`).digest('hex'),
        MacAddress: '',
        IPv4Address: n.kind !== 'none' && z.ipv4 ? `${z.ipv4}/${br.prefixLen}` : '',
        IPv6Address: n.kind !== 'none' && z.ipv6 ? `${z.ipv6}/64` : '',
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
      Internal: false,
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
      doc: 'network create [--subnet CIDR] [--label]: a bridge of its own (a /24 of 10.224.0.0/12 unless --subnet), its own IPAM, anti-spoofing per port, no traffic in from other networks, a DNS server at its gateway (names and aliases of its containers, the rest forwarded to the host\'s resolvers); driver bridge only, no --internal, --ipv6 always on (a ULA /64)',
      handler: async (ctx) => {
        const body = await ctx.body<CreateNetworkBody>();
        const name = body.Name ?? '';
        if (!name) throw badRequest('network name must not be empty');
        if (PREDEFINED.includes(name)) throw new DockerError(403, `operation is not permitted on predefined ${name} network`);
        if (body.Driver && body.Driver !== 'bridge') throw badRequest(`lxzone networks use the bridge driver; driver ${body.Driver} is not supported`);
        if (body.Internal) throw badRequest('--internal is not supported by lxzone yet');
        if (body.Ingress || body.ConfigOnly || body.ConfigFrom?.Network) throw badRequest('swarm and config-only networks are not supported by lxzone');
        if (body.IPAM?.Driver && body.IPAM.Driver !== 'default') throw badRequest(`IPAM driver ${body.IPAM.Driver} is not supported: lxzone has its own`);
        if (findNetwork(b, name)?.name === name) throw conflict(`network with name ${name} already exists`);
        const v4 = (body.IPAM?.Config ?? []).filter((c) => c.Subnet && !c.Subnet.includes(':'));
        if (v4.length > 1) throw badRequest('lxzone networks have one IPv4 subnet');
        const subnet = v4[0]?.Subnet;
        if (subnet) {
          const br = resolveBridge({ subnet });
          if (v4[0]!.Gateway && v4[0]!.Gateway !== br.gateway4) throw badRequest(`the gateway of ${br.subnet} is its first address, ${br.gateway4}, in lxzone`);
          if (v4[0]!.IPRange) throw badRequest('--ip-range is not supported by lxzone: the whole subnet is the pool');
        }
        const rec = await b.networks.create(name, { ...(subnet ? { subnet } : {}), labels: body.Labels ?? {} });
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
      doc: 'network connect [--alias]: moves a stopped container onto the network (one network per container, lxzone zones have one interface; a new lasting address there); a running one: 409',
      handler: async (ctx) => {
        const n = need(ctx);
        const body = await ctx.body<{ Container?: string; EndpointConfig?: { Aliases?: string[] | null; IPAMConfig?: { IPv4Address?: string } | null } | null }>();
        const m = container(body.Container);
        const cfg = b.opts.store.loadConfig(m.zone);
        const current = networkNameOf(cfg);
        if (current === n.name) throw new DockerError(403, `endpoint with name ${m.zone} already exists in network ${n.name}`);
        if (current !== 'bridge' && current !== 'none') {
          throw new DockerError(403, `container ${m.zone} is on network ${current}: an lxzone container is on one network at a time; disconnect it first`);
        }
        const aliases = endpointAliases(body.EndpointConfig?.Aliases, n.kind === 'user');
        const address = body.EndpointConfig?.IPAMConfig?.IPv4Address;
        await b.manager.changeNetwork(m.zone, networkFor(n, cfg.network, aliases, address));
        b.events.emit('network', 'connect', n.id, { name: n.name, type: 'bridge', container: m.Id });
        return { status: 200 };
      },
    },
    {
      method: 'POST',
      path: '/networks/:id/disconnect',
      doc: 'network disconnect: a stopped container is left with loopback only (as dockerd leaves a container without networks); a running one: 409',
      handler: async (ctx) => {
        const n = need(ctx);
        const body = await ctx.body<{ Container?: string; Force?: boolean }>();
        const m = container(body.Container);
        if (networkNameOf(b.opts.store.loadConfig(m.zone)) !== n.name) throw new DockerError(403, `container ${m.zone} is not connected to network ${n.name}`);
        await b.manager.changeNetwork(m.zone, { mode: 'loopback' });
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
  if (n.kind === 'none') return { mode: 'loopback' };
  const keep = old?.mode === 'zone' ? { nat: old.nat ?? true, ...(old.ports?.length ? { ports: old.ports } : {}) } : { nat: true };
  return {
    mode: 'zone',
    ...keep,
    ...(address ? { address } : {}),
    ...(n.kind === 'user' ? { userNetwork: n.name, ...(aliases.length ? { aliases } : {}) } : {}),
  };
}
