// The networks Docker clients ask about: "bridge" (lxzone's bridge, where
// every container with a network lives, each at its lasting address) and
// "none" (loopback only). User-defined networks are not served yet: create,
// connect and disconnect answer a 501 that says so, rather than a network
// that would not isolate its containers from the bridge's.
import { createHash } from 'node:crypto';
import { resolveBridge } from '../../zone/network/addressing.js';
import type { DockerBackend } from './backend.js';
import type { Ctx } from './context.js';
import { badRequest, DockerError, notFound, notImplemented } from './errors.js';
import type { Route } from './router.js';

const idOf = (name: string) => createHash('sha256').update(`lxzone-network:${name}`).digest('hex');
const UNSUPPORTED = 'user-defined networks are not supported by lxzone yet: containers use the default bridge (each with its own lasting address) or none';

export function networkRoutes(b: DockerBackend): Route[] {
  const view = async (name: 'bridge' | 'none') => {
    const br = resolveBridge(b.opts.bridge);
    const containers: Record<string, unknown> = {};
    for (const m of b.containers.list()) {
      const z = await b.manager.inspect(m.zone).catch(() => undefined);
      if (!z || !b.manager.runningNames().includes(m.zone)) continue;
      const onBridge = z.network === 'zone';
      if ((name === 'bridge') !== onBridge) continue;
      containers[m.Id] = {
        Name: m.zone,
        EndpointID: m.zone,
        MacAddress: '',
        IPv4Address: onBridge && z.ipv4 ? `${z.ipv4}/${br.prefixLen}` : '',
        IPv6Address: onBridge && z.ipv6 ? `${z.ipv6}/64` : '',
      };
    }
    return {
      Name: name,
      Id: idOf(name),
      Created: '0001-01-01T00:00:00Z',
      Scope: 'local',
      Driver: name === 'bridge' ? 'bridge' : 'null',
      EnableIPv6: name === 'bridge',
      IPAM: { Driver: 'default', Options: null, Config: name === 'bridge' ? [{ Subnet: br.subnet, Gateway: br.gateway4 }, { Subnet: br.ipv6Prefix, Gateway: br.gateway6 }] : [] },
      Internal: false,
      Attachable: false,
      Ingress: false,
      ConfigFrom: { Network: '' },
      ConfigOnly: false,
      Containers: containers,
      Options: name === 'bridge' ? { 'com.docker.network.bridge.name': br.name } : {},
      Labels: {},
    };
  };
  const find = (ctx: Ctx): 'bridge' | 'none' => {
    const id = ctx.params.id ?? '';
    for (const n of ['bridge', 'none'] as const) if (id === n || (id.length >= 1 && idOf(n).startsWith(id))) return n;
    throw notFound(`network ${id} not found`);
  };
  return [
    {
      method: 'GET',
      path: '/networks',
      doc: 'network ls: "bridge" (lxzone\'s bridge) and "none"; filters name, id, driver',
      handler: async (ctx) => {
        const f = ctx.filters();
        const out = [];
        for (const n of ['bridge', 'none'] as const) {
          const v = await view(n);
          let keep = true;
          for (const [k, vals] of Object.entries(f)) {
            if (k === 'name') keep &&= vals.some((x) => n.includes(x));
            else if (k === 'id') keep &&= vals.some((x) => v.Id.startsWith(x));
            else if (k === 'driver') keep &&= vals.includes(v.Driver);
            else if (k === 'type') keep &&= vals.includes('builtin');
            else throw badRequest(`invalid filter '${k}'`);
          }
          if (keep) out.push(v);
        }
        return out;
      },
    },
    { method: 'GET', path: '/networks/:id', doc: 'network inspect: the bridge\'s subnets and gateways, its running containers with their addresses', handler: async (ctx) => view(find(ctx)) },
    { method: 'POST', path: '/networks/create', doc: 'network create: not supported yet (501)', handler: () => Promise.reject(notImplemented(UNSUPPORTED)) },
    {
      method: 'DELETE',
      path: '/networks/:id',
      doc: 'network rm: the predefined networks cannot be removed (403)',
      handler: (ctx) => Promise.reject(new DockerError(403, `${find(ctx)} is a pre-defined network and cannot be removed`)),
    },
    { method: 'POST', path: '/networks/:id/connect', doc: 'network connect: not supported yet (501)', handler: () => Promise.reject(notImplemented(UNSUPPORTED)) },
    { method: 'POST', path: '/networks/:id/disconnect', doc: 'network disconnect: not supported yet (501)', handler: () => Promise.reject(notImplemented(UNSUPPORTED)) },
    { method: 'POST', path: '/networks/prune', doc: 'network prune: nothing to prune (the predefined networks stay)', handler: () => ({ NetworksDeleted: null }) },
  ];
}
