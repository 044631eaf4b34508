// The DNS servers of the user-defined networks, kept in step with the
// network records: one per network (server.ts) on its gateway, started when
// the daemon starts or a network is made, stopped when it is removed. The
// names each answers are the running zones whose config puts them on that
// network (its first or a further one): the zone's name and its aliases
// there (compose's service names), at the addresses its lease on that
// network holds. A zone on several networks asks the server of its first
// one, which answers it (only it: by its source address on that network,
// which the port's anti-spoofing makes its own) the names of its other
// networks too, at their addresses there, as dockerd's resolver does; names
// of its first network win. A zone answers to its own name, or to the names
// a front end gives it (namesOf: a Docker container's current Docker name and
// short id, so a `docker rename` renames it in DNS too). The tables are rebuilt at most once a second (a
// flood of queries does not become a flood of config reads).
import type { ZoneManager } from '../../zone/lifecycle/manager.js';
import { ipamDir, type LifecycleOptions } from '../../zone/lifecycle/options.js';
import { resolveBridge } from '../../zone/network/addressing.js';
import { ensureBridge } from '../../zone/network/bridge.js';
import { Ipam } from '../../zone/network/ipam.js';
import { NetworkStore, type NetworkRecord } from '../../zone/network/networks.js';
import type { Host, NameTable } from './answer.js';
import { Forwarder, hostUpstreams } from './forward.js';
import { NetworkDns } from './server.js';

const TABLE_TTL_MS = 1000;

/** One network's names, and which zone each of its addresses is. */
interface Table {
  names: NameTable;
  sources: Map<string, string>;
}

export class DnsService {
  readonly #servers = new Map<string, { id: string; dns: NetworkDns }>();
  readonly #tables = new Map<string, { at: number; table: Promise<Table> }>();
  /** The networks of each running zone, as the last table built saw them. */
  readonly #zoneNets = new Map<string, string[]>();
  readonly #forwarder: Forwarder;
  readonly #networks: NetworkStore;
  #queue: Promise<void> = Promise.resolve();
  #retry: NodeJS.Timeout | undefined;
  /** Syncs in a row that left a network unserved: retrying stops after 30 (about half a minute). */
  #failedSyncs = 0;
  /** The names a zone answers to when a front end names it otherwise (a Docker container: its Docker
   *  name, which `docker rename` changes, and its short id); undefined: the zone's own name. */
  namesOf: (zone: string) => string[] | undefined = () => undefined;

  constructor(
    private readonly manager: ZoneManager,
    private readonly opts: LifecycleOptions,
    private readonly log: (line: string) => void,
    env: NodeJS.ProcessEnv = process.env,
    private readonly port = 53,
  ) {
    this.#networks = new NetworkStore(ipamDir(opts.store));
    this.#forwarder = new Forwarder(() => hostUpstreams(env));
  }

  /** Start the servers of new networks, stop those of removed ones (serialised). */
  refresh(): Promise<void> {
    this.#queue = this.#queue.catch(() => undefined).then(() => this.#sync());
    return this.#queue;
  }

  close(): void {
    clearTimeout(this.#retry);
    for (const s of this.#servers.values()) s.dns.close();
    this.#servers.clear();
  }

  async #sync(): Promise<void> {
    const recs = this.#networks.list();
    let failed = false;
    const wanted = new Map(recs.map((r) => [r.name, r]));
    for (const [name, s] of this.#servers) {
      if (wanted.get(name)?.id === s.id) continue;
      s.dns.close();
      this.#servers.delete(name);
      this.#tables.delete(name);
    }
    for (const rec of recs) {
      if (this.#servers.has(rec.name)) continue;
      try {
        await this.#start(rec);
      } catch (e) {
        // A bind can fail for a while (the address another daemon's server of a removed network with the
        // same subnet still holds, a bridge being remade): tried again shortly, not left unserved.
        failed = true;
        this.log(`dns: network ${rec.name}: not served yet: ${(e as Error).message}; trying again in 1 s`);
        if (!this.#retry && this.#failedSyncs < 30) {
          this.#retry = setTimeout(() => {
            this.#retry = undefined;
            void this.refresh();
          }, 1000);
          this.#retry.unref();
        }
      }
    }
    this.#failedSyncs = failed ? this.#failedSyncs + 1 : 0;
  }

  async #start(rec: NetworkRecord): Promise<void> {
    const br = resolveBridge(this.#networks.bridgeConfig(rec));
    // The gateway address must exist to be bound: after a host reboot the bridge is made again here.
    await ensureBridge(this.#networks.bridgeConfig(rec));
    const dns = new NetworkDns({
      address: br.gateway4,
      network: br.network,
      prefixLen: br.prefixLen,
      address6: br.gateway6,
      prefix6: br.ipv6Prefix,
      port: this.port,
      table: (source) => this.#tableFor(rec, source),
      forwarder: this.#forwarder,
      forward: rec.internal !== true,
      log: this.log,
    });
    await dns.start();
    this.#servers.set(rec.name, { id: rec.id, dns });
    this.log(`dns: network ${rec.name}: serving ${br.gateway4}:${this.port} and [${br.gateway6}]:${this.port}`);
  }

  /** The names a query from `source` on network `rec` is answered from: the network's, then those of the source zone's other networks. */
  async #tableFor(rec: NetworkRecord, source: string): Promise<NameTable> {
    const own = await this.#table(rec);
    const zone = own.sources.get(source);
    const others = zone === undefined ? [] : (this.#zoneNets.get(zone) ?? []).filter((n) => n !== rec.name);
    if (others.length === 0) return own.names;
    const merged = new Map(own.names);
    for (const name of others) {
      const other = this.#networks.get(name);
      if (!other) continue;
      for (const [k, v] of (await this.#table(other)).names) if (!merged.has(k)) merged.set(k, v);
    }
    return merged;
  }

  #table(rec: NetworkRecord): Promise<Table> {
    const cached = this.#tables.get(rec.name);
    if (cached && Date.now() - cached.at < TABLE_TTL_MS) return cached.table;
    const table = this.#build(rec);
    this.#tables.set(rec.name, { at: Date.now(), table });
    table.catch(() => this.#tables.delete(rec.name));
    return table;
  }

  async #build(rec: NetworkRecord): Promise<Table> {
    const named = new Map<string, string[] | undefined>();
    const leases = new Map((await new Ipam({ stateDir: ipamDir(this.opts.store), bridge: this.#networks.bridgeConfig(rec) }).list()).map((l) => [l.zone, l]));
    const table = new Map<string, Host[]>();
    const sources = new Map<string, string>();
    for (const zone of this.manager.runningNames()) {
      let cfg;
      try {
        cfg = this.opts.store.loadConfig(zone);
      } catch {
        continue; // a zone whose config cannot be read has no name here
      }
      const lease = leases.get(zone);
      if (cfg.network?.mode !== 'zone') continue;
      const nets = [...(cfg.network.userNetwork !== undefined ? [{ name: cfg.network.userNetwork, aliases: cfg.network.aliases }] : []), ...(cfg.network.extraNetworks ?? [])];
      this.#zoneNets.set(zone, nets.map((n) => n.name));
      const here = nets.find((n) => n.name === rec.name);
      if (!here || !lease) continue;
      sources.set(lease.ipv4, zone);
      if (lease.ipv6) sources.set(lease.ipv6, zone);
      let own = named.get(zone);
      if (!named.has(zone)) named.set(zone, (own = this.namesOf(zone)));
      for (const name of new Set([...(own ?? [zone]), ...(here.aliases ?? [])].map((n) => n.toLowerCase()))) {
        const hosts = table.get(name) ?? [];
        hosts.push({ ipv4: lease.ipv4, ipv6: lease.ipv6 });
        table.set(name, hosts);
      }
    }
    return { names: table, sources };
  }
}
