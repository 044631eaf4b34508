// The host bridge that all zone veths plug into. Created on first use with the
// subnet's first address and the ULA prefix's ::1 (the zones' gateway); marked
// with an alias so removal never touches a bridge lxzone did not create.
import { writeFile } from 'node:fs/promises';
import { LxzoneError } from '../../errors.js';
import { ipv4ToInt, resolveBridge, type BridgeConfig, type ResolvedBridge } from './addressing.js';
import { ip, ipBatch, ipJson, isNotFound } from './exec.js';
import { ensureOutboundTable, removeOutboundTable } from './outbound.js';
import { guardHost, unguardHost, unguardPort } from './guard.js';

export const BRIDGE_ALIAS = 'lxzone bridge';

interface LinkJson {
  ifname: string;
  ifalias?: string;
  master?: string;
  operstate?: string;
  linkinfo?: { info_kind?: string };
}
interface AddrJson {
  ifname: string;
  addr_info: { family: string; local: string; prefixlen: number }[];
}

export async function linkInfo(name: string): Promise<LinkJson | undefined> {
  try {
    return (await ipJson<LinkJson>('-d', 'link', 'show', 'dev', name))[0];
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Refuse a subnet that overlaps an IPv4 network already configured on another interface. */
async function checkNoOverlap(br: ResolvedBridge): Promise<void> {
  const lo = br.network;
  const hi = br.network + 2 ** (32 - br.prefixLen) - 1;
  for (const link of await ipJson<AddrJson>('-4', 'addr', 'show')) {
    if (link.ifname === br.name) continue;
    for (const a of link.addr_info ?? []) {
      if (a.family !== 'inet') continue;
      const size = 2 ** (32 - a.prefixlen);
      const start = Math.floor(ipv4ToInt(a.local) / size) * size;
      if (start <= hi && start + size - 1 >= lo) {
        throw new LxzoneError(
          `network.subnet ${br.subnet} of bridge ${br.name} overlaps ${a.local}/${a.prefixlen} on ${link.ifname}; choose another subnet`,
          { where: 'network.subnet', code: 'EADDRINUSE' },
        );
      }
    }
  }
}

/** Create the bridge if missing (idempotent, safe against a concurrent caller) and return its resolved config. */
export async function ensureBridge(cfg: BridgeConfig = {}): Promise<ResolvedBridge> {
  const br = resolveBridge(cfg);
  const existing = await linkInfo(br.name);
  if (existing && existing.linkinfo?.info_kind !== 'bridge') {
    throw new LxzoneError(`network.bridge: ${br.name} exists and is not a bridge (${existing.linkinfo?.info_kind ?? 'unknown kind'})`, {
      where: 'network.bridge',
    });
  }
  if (!existing) {
    await checkNoOverlap(br);
    try {
      await ip('link', 'add', br.name, 'mtu', String(br.mtu), 'type', 'bridge');
    } catch (err) {
      if (!/File exists/.test(String(err))) throw err; // another process won the race: fine
    }
  }
  // The host may default new interfaces to disable_ipv6=1; the bridge needs its ULA gateway.
  await writeFile(`/proc/sys/net/ipv6/conf/${br.name}/disable_ipv6`, '0').catch(() => {});
  // "replace" makes every step idempotent, so a half-made bridge is completed, not refused.
  await ipBatch([
    `link set dev ${br.name} alias "${BRIDGE_ALIAS}"`,
    `addr replace ${br.gateway4}/${br.prefixLen} dev ${br.name}`,
    `addr replace ${br.gateway6}/64 dev ${br.name} nodad`,
    `link set dev ${br.name} up`,
  ]);
  // Zones reach the host only at the gateway, on the ports allowed (guard.ts).
  await guardHost(br, cfg.hostPorts);
  // What crosses between the bridge and the host's other networks (outbound.ts): nothing until a zone is allowed out.
  await ensureOutboundTable(br);
  return br;
}

export interface RemoveBridgeOptions {
  /** Also delete zone veths still attached (their zones lose their network). Without it, attached ports refuse removal. */
  force?: boolean;
}

/** Delete the bridge (with its addresses and routes). Returns false when it did not exist. */
export async function removeBridge(cfg: BridgeConfig = {}, opts: RemoveBridgeOptions = {}): Promise<boolean> {
  const br = resolveBridge(cfg);
  const existing = await linkInfo(br.name);
  if (!existing) return false;
  if (existing.linkinfo?.info_kind !== 'bridge' || existing.ifalias !== BRIDGE_ALIAS) {
    throw new LxzoneError(`${br.name} was not created by lxzone (no "${BRIDGE_ALIAS}" alias); not removing it`, {
      where: 'network.bridge',
    });
  }
  const ports = await ipJson<LinkJson>('link', 'show', 'master', br.name);
  if (ports.length > 0) {
    if (!opts.force) {
      throw new LxzoneError(`bridge ${br.name} still has zones attached (${ports.map((p) => p.ifname).join(', ')}); detach them or force`, {
        code: 'EBUSY',
      });
    }
    for (const p of ports) {
      if (!p.ifalias?.startsWith(`lxzone:${br.name}:`)) continue; // a foreign port is only unplugged by the bridge's deletion
      await ip('link', 'del', 'dev', p.ifname).catch((err) => {
        if (!isNotFound(err)) throw err;
      });
      await unguardPort(p.ifname);
    }
  }
  await removeOutboundTable(cfg); // its nftables table names the bridge: it goes with it
  await unguardHost(br.name);
  try {
    await ip('link', 'del', 'dev', br.name);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  return true;
}
