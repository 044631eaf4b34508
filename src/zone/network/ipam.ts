// IP address management with a persistent store: one JSON file per bridge
// under the state directory. A zone keeps its lease until release(zone) — the
// zone's destroy — so halt/boot, host reboot and daemon restarts all find the
// same address. Every read-modify-write happens under a lock file and ends
// with temp file + rename, so two processes never hand out the same address
// and a crash never leaves a torn store.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { LxzoneError } from '../../errors.js';
import {
  addressesFor,
  checkZoneName,
  hostCount,
  hostIndex,
  type BridgeConfig,
  type ResolvedBridge,
  resolveBridge,
} from './addressing.js';
import { withLock } from './lock.js';

export interface Lease {
  zone: string;
  ipv4: string;
  ipv6: string;
  /** Prefix length of the IPv4 subnet (the zone's eth0 gets ipv4/prefixLen4). */
  prefixLen4: number;
  prefixLen6: 64;
  gateway4: string;
  gateway6: string;
  bridge: string;
  /** True when the zone asked for this address. */
  static: boolean;
  /** ISO time of allocation. */
  since: string;
}

interface StoreFile {
  version: 1;
  bridge: string;
  subnet: string;
  ipv6Prefix: string;
  /** Host index after the last dynamic allocation: next-fit, so a released address is not reused at once. */
  cursor: number;
  leases: Record<string, { index: number; static: boolean; since: string }>;
}

export interface IpamOptions {
  /** Directory for the store (created 0700 if missing), e.g. /var/lib/lxzone/network. */
  stateDir: string;
  bridge?: BridgeConfig;
  lockTimeoutMs?: number;
}

export class Ipam {
  readonly bridge: ResolvedBridge;
  readonly storePath: string;
  readonly #lockPath: string;
  readonly #stateDir: string;
  readonly #lockTimeoutMs?: number;

  constructor(opts: IpamOptions) {
    this.bridge = resolveBridge(opts.bridge);
    this.#stateDir = opts.stateDir;
    this.storePath = join(opts.stateDir, `ipam-${this.bridge.name}.json`);
    this.#lockPath = `${this.storePath}.lock`;
    this.#lockTimeoutMs = opts.lockTimeoutMs;
  }

  /** The zone's lease, allocating one if it has none. `requested` ("a.b.c.d" or "a.b.c.d/len") asks for a static address. */
  async allocate(zone: string, requested?: string): Promise<Lease> {
    checkZoneName(zone);
    const wantIndex = requested === undefined ? undefined : this.#checkRequested(requested);
    const wanted = requested?.split('/')[0];
    return this.#update((store) => {
      const held = store.leases[zone];
      if (held) {
        if (wantIndex !== undefined && held.index !== wantIndex) {
          throw new LxzoneError(
            `zone ${zone} already holds ${this.#lease(zone, held).ipv4}; it cannot also take ${wanted} (release the zone's address first)`,
            { code: 'EEXIST', where: 'network.address' },
          );
        }
        return this.#lease(zone, held);
      }
      const byIndex = new Map(Object.entries(store.leases).map(([z, l]) => [l.index, z]));
      let index: number;
      if (wantIndex !== undefined) {
        const holder = byIndex.get(wantIndex);
        if (holder !== undefined) {
          throw new LxzoneError(`address ${wanted} is already taken by zone ${holder}`, {
            code: 'EADDRINUSE',
            where: 'network.address',
          });
        }
        index = wantIndex;
      } else {
        index = this.#nextFree(store.cursor, byIndex);
        store.cursor = index;
      }
      store.leases[zone] = { index, static: wantIndex !== undefined, since: new Date().toISOString() };
      return this.#lease(zone, store.leases[zone]);
    });
  }

  /** Forget the zone's lease (the zone was destroyed). Returns whether it had one. */
  async release(zone: string): Promise<boolean> {
    checkZoneName(zone);
    return this.#update((store) => {
      if (!store.leases[zone]) return false;
      delete store.leases[zone];
      return true;
    });
  }

  async get(zone: string): Promise<Lease | undefined> {
    const store = await this.#read();
    const held = store.leases[zone];
    return held ? this.#lease(zone, held) : undefined;
  }

  async list(): Promise<Lease[]> {
    const store = await this.#read();
    return Object.entries(store.leases)
      .map(([z, l]) => this.#lease(z, l))
      .sort((a, b) => a.zone.localeCompare(b.zone));
  }

  #checkRequested(requested: string): number {
    const br = this.bridge;
    // The zone config allows "a.b.c.d/len": the length must be the bridge's (one L2 segment, one subnet).
    const [addr, len] = requested.split('/');
    if (len !== undefined && Number(len) !== br.prefixLen) {
      throw new LxzoneError(`network.address: ${requested} has prefix /${len}, but bridge ${br.name} uses ${br.subnet}`, {
        where: 'network.address',
      });
    }
    let index: number | undefined;
    try {
      index = hostIndex(br, addr);
    } catch {
      throw new LxzoneError(`network.address: ${JSON.stringify(addr)} is not an IPv4 address`, { where: 'network.address' });
    }
    if (index === undefined) {
      throw new LxzoneError(`network.address: ${addr} is outside the subnet ${br.subnet} of bridge ${br.name}`, {
        where: 'network.address',
      });
    }
    if (index === 0 || index === 1 || index === hostCount(br) + 2) {
      const what = index === 0 ? 'the network address' : index === 1 ? "the bridge's own address" : 'the broadcast address';
      throw new LxzoneError(`network.address: ${addr} is ${what} of ${br.subnet}`, { where: 'network.address' });
    }
    return index;
  }

  #nextFree(cursor: number, used: Map<number, string>): number {
    const n = hostCount(this.bridge); // usable indexes are 2 .. n+1
    for (let k = 1; k <= n; k++) {
      const idx = 2 + ((cursor - 2 + k + n) % n);
      if (!used.has(idx)) return idx;
    }
    throw new LxzoneError(`subnet ${this.bridge.subnet} of bridge ${this.bridge.name} has no free address (${n} leases)`, {
      code: 'EADDRNOTAVAIL',
    });
  }

  #lease(zone: string, l: { index: number; static: boolean; since: string }): Lease {
    const br = this.bridge;
    return {
      zone,
      ...addressesFor(br, l.index),
      prefixLen4: br.prefixLen,
      prefixLen6: 64,
      gateway4: br.gateway4,
      gateway6: br.gateway6,
      bridge: br.name,
      static: l.static,
      since: l.since,
    };
  }

  #empty(): StoreFile {
    const br = this.bridge;
    return { version: 1, bridge: br.name, subnet: br.subnet, ipv6Prefix: br.ipv6Prefix, cursor: 1, leases: {} };
  }

  async #read(): Promise<StoreFile> {
    let text: string;
    try {
      text = await fs.readFile(this.storePath, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return this.#empty();
      throw err;
    }
    let store: StoreFile;
    try {
      store = JSON.parse(text) as StoreFile;
    } catch (err) {
      throw new LxzoneError(`${this.storePath}: not valid JSON (${(err as Error).message})`, { where: this.storePath });
    }
    if (store?.version !== 1 || typeof store.leases !== 'object' || store.leases === null) {
      throw new LxzoneError(`${this.storePath}: not an lxzone IPAM store (version 1)`, { where: this.storePath });
    }
    const br = this.bridge;
    // Changing the subnet under existing leases would silently renumber zones: refuse.
    if (store.subnet !== br.subnet || store.ipv6Prefix !== br.ipv6Prefix) {
      if (Object.keys(store.leases).length > 0) {
        throw new LxzoneError(
          `${this.storePath}: bridge ${br.name} has leases in ${store.subnet} ${store.ipv6Prefix}, but is now configured with ${br.subnet} ${br.ipv6Prefix}; release the zones' addresses or keep the old subnet`,
          { where: 'network.subnet' },
        );
      }
      return this.#empty();
    }
    return store;
  }

  async #update<T>(fn: (store: StoreFile) => T): Promise<T> {
    await fs.mkdir(this.#stateDir, { recursive: true, mode: 0o700 });
    return withLock(
      this.#lockPath,
      async () => {
        const store = await this.#read();
        const result = fn(store);
        const tmp = `${this.storePath}.tmp.${process.pid}`;
        const fh = await fs.open(tmp, 'w', 0o600);
        try {
          await fh.writeFile(JSON.stringify(store, null, 2) + '\n');
          await fh.sync(); // the lease must survive a host crash right after boot
        } finally {
          await fh.close();
        }
        await fs.rename(tmp, this.storePath);
        return result;
      },
      { timeoutMs: this.#lockTimeoutMs },
    );
  }
}
