// What crosses between a bridge and the rest of the host's networks, per
// zone address. One nftables table per bridge ("lxzone_<bridge>", ip
// family), made with the bridge and deleted with it:
//   - set `nat`: the zone addresses allowed out. Only they are forwarded
//     from the bridge to another interface, masqueraded as the host
//     (`allowOutbound` / `revokeOutbound` add and remove one address; the
//     zone's boot and halt call them, so a stopped or destroyed zone leaves
//     no element behind);
//   - nothing from outside opens a connection into a zone, except through a
//     published port (publish.ts: the connection was DNATed, `ct status
//     dnat`) — and a zone on another lxzone bridge is "outside" too, so
//     networks stay apart even for zones allowed out;
//   - packets from the bridge to 127.0.0.0/8 are dropped before routing:
//     published ports need route_localnet on the bridge for the host's own
//     connections to 127.0.0.1 (publish.ts), which must not let a zone
//     address the host's loopback services.
// IPv4 forwarding is host-wide: it is turned on with the first address
// allowed out (or port published) and off again with the last lxzone table
// if lxzone turned it on (recorded in the table's comment). IPv6 ULA traffic
// is not translated or forwarded (that would need NAT66 and host-wide IPv6
// forwarding, which turns off router advertisements on the host's own
// interfaces).
// fs.promises, not node:fs/promises: a getter that loads it when first used, not on every CLI start (issue 18).
import { promises as fsp } from 'node:fs';
import { isIPv4 } from 'node:net';
import { LxzoneError } from '../../errors.js';
import { resolveBridge, type BridgeConfig, type ResolvedBridge } from './addressing.js';
import { run } from './exec.js';

const FORWARD = '/proc/sys/net/ipv4/ip_forward';
const FORWARD_WAS_OFF = 'lxzone: ip_forward was 0';
const FORWARD_WAS_ON = 'lxzone: ip_forward was 1';

export function outboundTable(bridge: string): string {
  return `lxzone_${bridge.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

const gone = (err: unknown) => /No such file or directory|does not exist|cannot run nft/.test(String((err as Error)?.message ?? err));

/**
 * Create the bridge's table if it is missing (atomic: `create table` fails
 * when another process made it first, and the whole transaction with it).
 * An existing table is kept as it is: its `nat` set holds the running zones.
 */
export async function ensureOutboundTable(br: ResolvedBridge): Promise<void> {
  const t = outboundTable(br.name);
  const dev = JSON.stringify(br.name);
  const forwardWasOff = (await fsp.readFile(FORWARD, 'utf8')).trim() === '0';
  const script = [
    `create table ip ${t} { comment "${forwardWasOff ? FORWARD_WAS_OFF : FORWARD_WAS_ON}"; }`,
    `table ip ${t} {`,
    `  set nat { type ipv4_addr; comment "zones allowed out"; }`,
    `  chain prerouting {`,
    `    type filter hook prerouting priority raw; policy accept;`,
    `    iifname ${dev} ip daddr 127.0.0.0/8 counter drop comment "lxzone: a zone never addresses the host's loopback"`,
    `  }`,
    `  chain postrouting {`,
    `    type nat hook postrouting priority srcnat; policy accept;`,
    `    ip saddr @nat ip daddr != ${br.subnet} oifname != ${dev} masquerade comment "lxzone: zones out"`,
    // The host's own connections to a published port on 127.0.0.1 (publish.ts).
    `    oifname ${dev} ip saddr 127.0.0.0/8 masquerade comment "lxzone: published ports from the host's loopback"`,
    // A zone reaching a published port of a zone on its own bridge (hairpin): the answer must come back through the host.
    `    iifname ${dev} oifname ${dev} ct status dnat masquerade comment "lxzone: published ports from the bridge"`,
    `  }`,
    `  chain forward {`,
    `    type filter hook forward priority filter; policy accept;`,
    // With br_netfilter (bridge-nf-call-iptables=1) zone-to-zone frames on the bridge pass here too.
    `    iifname ${dev} oifname ${dev} accept`,
    `    oifname ${dev} ct state established,related accept`,
    `    oifname ${dev} ct status dnat accept comment "lxzone: published ports"`,
    `    oifname ${dev} counter drop comment "lxzone: nothing outside may open a connection into a zone"`,
    `    iifname ${dev} ct state established,related accept`,
    `    iifname ${dev} ip saddr @nat accept comment "lxzone: zones allowed out"`,
    `    iifname ${dev} counter drop comment "lxzone: zones not allowed out"`,
    `  }`,
    `}`,
  ].join('\n');
  try {
    await run('nft', ['-f', '-'], script + '\n');
  } catch (err) {
    if (/File exists/.test(String((err as Error).message))) return; // made already (by us, or a concurrent caller)
    if (/cannot run nft/.test(String((err as Error).message))) {
      throw new LxzoneError('zone networks need nftables (apt-get install nftables)', { code: 'ENOENT', exitCode: 125 });
    }
    throw new LxzoneError(`nftables refused the forwarding rules of bridge ${br.name}: ${(err as Error).message}`, { code: 'EIO', exitCode: 125 });
  }
}

/** Turn IPv4 forwarding on (host-wide): zones allowed out and published ports need it. */
export async function enableForwarding(): Promise<void> {
  if ((await fsp.readFile(FORWARD, 'utf8')).trim() !== '1') await fsp.writeFile(FORWARD, '1');
}

function checkAddress(ipv4: string): void {
  if (!isIPv4(ipv4)) throw new LxzoneError(`not an IPv4 address: ${JSON.stringify(ipv4)}`, { code: 'EINVAL' });
}

/** Let one zone address out through NAT (idempotent). The bridge and its table must exist (ensureBridge). */
export async function allowOutbound(cfg: BridgeConfig, ipv4: string): Promise<void> {
  checkAddress(ipv4);
  const t = outboundTable(resolveBridge(cfg).name);
  await run('nft', ['add', 'element', 'ip', t, 'nat', `{ ${ipv4} }`]);
  await enableForwarding();
}

/** Take one zone address's way out away (idempotent; nothing to do without the table). */
export async function revokeOutbound(cfg: BridgeConfig, ipv4: string): Promise<void> {
  checkAddress(ipv4);
  const t = outboundTable(resolveBridge(cfg).name);
  try {
    await run('nft', ['delete', 'element', 'ip', t, 'nat', `{ ${ipv4} }`]);
  } catch (err) {
    if (gone(err) || /No such file|ENOENT/.test(String(err))) return;
    throw err;
  }
}

/** Whether a zone address may go out. */
export async function outboundAllowed(cfg: BridgeConfig, ipv4: string): Promise<boolean> {
  checkAddress(ipv4);
  try {
    await run('nft', ['get', 'element', 'ip', outboundTable(resolveBridge(cfg).name), 'nat', `{ ${ipv4} }`]);
    return true;
  } catch {
    return false;
  }
}

/** The forwarding state recorded when the table was made, or undefined without a table. */
async function previousForwarding(table: string): Promise<boolean | undefined> {
  try {
    // The text form: nft 1.0.6's JSON output leaves table comments out.
    const { stdout } = await run('nft', ['list', 'table', 'ip', table]);
    if (stdout.includes(`comment "${FORWARD_WAS_OFF}"`)) return true;
    if (stdout.includes(`comment "${FORWARD_WAS_ON}"`)) return false;
    return undefined;
  } catch {
    return undefined;
  }
}

/** Remove the bridge's table (with the bridge). IPv4 forwarding goes back off if lxzone turned it on and no
 *  other lxzone bridge table is left; otherwise it is left as it is. */
export async function removeOutboundTable(cfg: BridgeConfig = {}): Promise<boolean> {
  const t = outboundTable(resolveBridge(cfg).name);
  const forwardWasOff = await previousForwarding(t);
  try {
    await run('nft', ['delete', 'table', 'ip', t]);
  } catch (err) {
    if (gone(err)) return false;
    throw err;
  }
  if (forwardWasOff) {
    const { stdout } = await run('nft', ['list', 'tables']);
    if (!/\btable ip lxzone_/.test(stdout)) await fsp.writeFile(FORWARD, '0');
  }
  return true;
}
