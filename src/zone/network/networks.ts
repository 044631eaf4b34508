// User-defined networks: each a bridge of its own, with its own subnet, IPAM
// store, anti-spoofing (guard.ts, per port, as on the default bridge) and
// forwarding table (outbound.ts: nothing from outside the bridge, another
// network's zones included, opens a connection into it). A zone joins one by
// naming it in its config (network.userNetwork); the record here says which
// bridge and subnet that name means. Records live beside the IPAM stores
// (<state>/network/nets/NAME.json), so they survive daemon restarts and host
// reboots; the bridge is made again on first use after a reboot.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { LxzoneError } from '../../errors.js';
import { intToIpv4, ipv4ToInt, resolveBridge, type BridgeConfig } from './addressing.js';
import { ensureBridge, removeBridge } from './bridge.js';
import { ipJson } from './exec.js';
import { withLock } from './lock.js';

export interface NetworkRecord {
  version: 1;
  name: string;
  /** 64 hex digits: what Docker clients call the network's ID. */
  id: string;
  /** The bridge interface ("lxzn" + 11 hex digits of the id). */
  bridge: string;
  subnet: string;
  ipv6Prefix: string;
  /** ISO time of creation. */
  created: string;
  labels: Record<string, string>;
  /** Docker's --internal: nothing of the network reaches outside it (no NAT, no default route, no published ports, no DNS forwarding). */
  internal?: boolean;
}

/** Zones on a user-defined network reach the host only for the network's DNS resolver (src/daemon/dns/). */
export const NETWORK_HOST_PORTS = ['udp/53', 'tcp/53'];
/** Subnets handed out when none is asked for: /24s of 10.224.0.0/12, clear of the default bridge (10.213.0.0/16). */
const POOL_START = ipv4ToInt('10.224.0.0');
const POOL_SIZE = 4096;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export function checkNetworkName(name: string): void {
  if (typeof name !== 'string' || !NAME_RE.test(name)) {
    throw new LxzoneError(`network name ${JSON.stringify(name)} is not 1-63 of A-Z a-z 0-9 _ . - (starting with a letter or digit)`, {
      code: 'EINVAL',
      where: 'network.userNetwork',
      exitCode: 2,
    });
  }
}

interface AddrJson {
  addr_info: { family: string; local: string; prefixlen: number }[];
}

/** IPv4 ranges in use on the host's interfaces, as [first, last]. */
async function hostRanges(): Promise<[number, number][]> {
  const out: [number, number][] = [];
  for (const link of await ipJson<AddrJson>('-4', 'addr', 'show')) {
    for (const a of link.addr_info ?? []) {
      if (a.family !== 'inet') continue;
      const size = 2 ** (32 - a.prefixlen);
      const start = Math.floor(ipv4ToInt(a.local) / size) * size;
      out.push([start, start + size - 1]);
    }
  }
  return out;
}

export class NetworkStore {
  readonly dir: string;

  /** `networkDir`: the IPAM's directory (<state>/network). */
  constructor(networkDir: string) {
    this.dir = join(networkDir, 'nets');
  }

  #file(name: string): string {
    checkNetworkName(name);
    return join(this.dir, `${name}.json`);
  }

  /** The file a zone on the network sees as /etc/resolv.conf (bound read-only at boot). */
  resolvConfPath(name: string): string {
    checkNetworkName(name);
    return join(this.dir, `${name}.resolv.conf`);
  }

  /** What a zone whose first network is `name` reads in /etc/resolv.conf. */
  resolvConfText(name: string): string {
    const br = resolveBridge(this.bridgeConfig(this.need(name)));
    return resolvConf(br.gateway4, br.gateway6);
  }

  /** The network's resolv.conf, written again if it went missing or is out of date; its path. */
  ensureResolvConf(name: string): string {
    const path = this.resolvConfPath(name);
    writeInPlace(path, this.resolvConfText(name));
    return path;
  }

  /**
   * A zone's own resolv.conf at `path` (bound read-only at its /etc/resolv.conf), naming the DNS
   * server of its first network `name`. Written in place (the same inode), so a running zone reads
   * the new servers at once when its first network changes (network-change.ts).
   */
  writeZoneResolvConf(path: string, name: string): string {
    writeInPlace(path, this.resolvConfText(name));
    return path;
  }

  get(name: string): NetworkRecord | undefined {
    let text: string;
    try {
      text = readFileSync(this.#file(name), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    const rec = JSON.parse(text) as NetworkRecord;
    if (rec?.version !== 1 || rec.name !== name || typeof rec.bridge !== 'string') {
      throw new LxzoneError(`${this.#file(name)}: not an lxzone network record (version 1)`, { where: this.#file(name) });
    }
    return rec;
  }

  /** The record, or an error naming the missing network. */
  need(name: string): NetworkRecord {
    const rec = this.get(name);
    if (!rec) throw new LxzoneError(`network ${name} does not exist`, { code: 'ENOENT', where: 'network.userNetwork' });
    return rec;
  }

  list(): NetworkRecord[] {
    let names: string[];
    try {
      names = readdirSync(this.dir).filter((f) => f.endsWith('.json'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    return names
      .map((f) => this.get(f.slice(0, -5)))
      .filter((r): r is NetworkRecord => r !== undefined)
      .sort((a, b) => a.created.localeCompare(b.created));
  }

  bridgeConfig(rec: NetworkRecord): BridgeConfig {
    return { name: rec.bridge, subnet: rec.subnet, ipv6Prefix: rec.ipv6Prefix, hostPorts: NETWORK_HOST_PORTS, ...(rec.internal ? { internal: true } : {}) };
  }

  /** Makes the network: its record, its bridge (with its subnet checked against the host's), its resolv.conf. */
  async create(name: string, o: { subnet?: string; ipv6Prefix?: string; internal?: boolean; labels?: Record<string, string> } = {}): Promise<NetworkRecord> {
    checkNetworkName(name);
    // "bridge" names the default bridge wherever a network is named (a zone's further networks too).
    if (['bridge', 'none', 'host'].includes(name)) throw new LxzoneError(`network name ${name} is reserved (the default bridge, no network, the host's)`, { code: 'EINVAL', exitCode: 2 });
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    return withLock(join(this.dir, 'nets.lock'), async () => {
      if (this.get(name)) throw new LxzoneError(`network with name ${name} already exists`, { code: 'EEXIST' });
      const id = randomBytes(32).toString('hex');
      const bridge = `lxzn${id.slice(0, 11)}`;
      const taken = this.list().map((r) => resolveBridge({ subnet: r.subnet }));
      const candidates = o.subnet !== undefined ? [o.subnet] : await this.#freeSubnets(taken.map((t) => [t.network, t.network + 2 ** (32 - t.prefixLen) - 1]));
      let made: NetworkRecord | undefined;
      let lastErr: unknown;
      for (const subnet of candidates) {
        const br = resolveBridge({ name: bridge, subnet, ...(o.ipv6Prefix !== undefined ? { ipv6Prefix: o.ipv6Prefix } : {}) });
        const clash = taken.find((t) => t.network <= br.network + 2 ** (32 - br.prefixLen) - 1 && br.network <= t.network + 2 ** (32 - t.prefixLen) - 1);
        if (clash) throw new LxzoneError(`subnet ${subnet} overlaps network ${clash.subnet} of another lxzone network`, { code: 'EADDRINUSE' });
        const rec: NetworkRecord = { version: 1, name, id, bridge, subnet: br.subnet, ipv6Prefix: br.ipv6Prefix, created: new Date().toISOString(), labels: o.labels ?? {}, ...(o.internal ? { internal: true } : {}) };
        try {
          await ensureBridge(this.bridgeConfig(rec)); // refuses a subnet the host uses (a concurrent creator's, too)
          made = rec;
          break;
        } catch (e) {
          lastErr = e;
          await removeBridge(this.bridgeConfig(rec), { force: true }).catch(() => undefined);
          if (o.subnet !== undefined || (e as LxzoneError).code !== 'EADDRINUSE') throw e;
        }
      }
      if (!made) throw lastErr ?? new LxzoneError('no free subnet for a new network in 10.224.0.0/12', { code: 'EADDRNOTAVAIL' });
      const made6 = resolveBridge(this.bridgeConfig(made));
      await fs.writeFile(this.resolvConfPath(name), resolvConf(made6.gateway4, made6.gateway6), { mode: 0o644 });
      const tmp = `${this.#file(name)}.tmp.${process.pid}`;
      await fs.writeFile(tmp, JSON.stringify(made, null, 2) + '\n', { mode: 0o600 });
      await fs.rename(tmp, this.#file(name));
      return made;
    });
  }

  async #freeSubnets(records: [number, number][]): Promise<string[]> {
    const used = [...records, ...(await hostRanges())];
    const out: string[] = [];
    for (let i = 0; i < POOL_SIZE && out.length < 8; i++) {
      const lo = POOL_START + i * 256;
      if (!used.some(([a, b]) => a <= lo + 255 && lo <= b)) out.push(`${intToIpv4(lo)}/24`);
    }
    return out;
  }

  /** Removes the network: bridge (its nftables tables go with it), IPAM store, resolv.conf, record.
   *  `users`: the zones whose config names it; removal is refused while there are any. */
  async remove(name: string, users: string[]): Promise<void> {
    const rec = this.need(name);
    if (users.length > 0) {
      throw new LxzoneError(`network ${name} id ${rec.id} has active endpoints (${users.join(', ')})`, { code: 'EBUSY' });
    }
    await withLock(join(this.dir, 'nets.lock'), async () => {
      await removeBridge(this.bridgeConfig(rec), { force: true });
      const ipamFile = join(this.dir, '..', `ipam-${rec.bridge}.json`);
      rmSync(ipamFile, { force: true });
      rmSync(`${ipamFile}.lock`, { force: true });
      rmSync(this.resolvConfPath(name), { force: true });
      rmSync(this.#file(name), { force: true });
    });
  }

  /** After a host reboot the bridges are gone: make them again (idempotent). */
  async ensureAll(): Promise<NetworkRecord[]> {
    const out: NetworkRecord[] = [];
    for (const rec of this.list()) {
      await ensureBridge(this.bridgeConfig(rec));
      out.push(rec);
    }
    return out;
  }
}

/** The zone's resolver is the network's DNS server at the gateway, IPv4 and IPv6; ndots:0 as Docker's embedded DNS leaves it. */
export function resolvConf(gateway4: string, gateway6?: string): string {
  const v6 = gateway6 === undefined ? '' : `nameserver ${gateway6}\n`;
  return `# lxzone: the network's DNS resolver (names of the zones on it; other names forwarded to the host's resolvers)\nnameserver ${gateway4}\n${v6}options ndots:0\n`;
}

/** `text` in the file at `path`, unless it holds it already; an existing file keeps its inode (a bind of it sees the change). */
export function writeInPlace(path: string, text: string): void {
  let have: string | undefined;
  try {
    have = readFileSync(path, 'utf8');
  } catch {
    // missing: written below
  }
  if (have !== text) writeFileSync(path, text, { mode: 0o644 });
}
