// Outside access for zones, only when asked: IPv4 masquerading of the bridge
// subnet plus a forward filter that lets zones open connections out and lets
// nothing from outside open one in. IPv4 forwarding is host-wide: it is
// turned on, and turned off again with the last table if it was off before. All rules live in one nftables table per
// bridge ("lxzone_<bridge>"), so removal is a single "delete table" and never
// touches anyone else's rules. IPv6 ULA traffic is not translated (that would
// need NAT66 and host-wide IPv6 forwarding, which turns off router
// advertisements on the host's own interfaces).
import { readFile, writeFile } from 'node:fs/promises';
import { resolveBridge, type BridgeConfig } from './addressing.js';
import { linkInfo } from './bridge.js';
import { run } from './exec.js';
import { LxzoneError } from '../../errors.js';

const FORWARD = '/proc/sys/net/ipv4/ip_forward';
const FORWARD_WAS_OFF = 'lxzone: ip_forward was 0';
const FORWARD_WAS_ON = 'lxzone: ip_forward was 1';

export function outboundTable(bridge: string): string {
  return `lxzone_${bridge.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/** Masquerade the bridge's subnet towards every other interface and turn on IPv4 forwarding (host-wide). Idempotent. */
export async function enableOutbound(cfg: BridgeConfig = {}): Promise<void> {
  const br = resolveBridge(cfg);
  if (!(await linkInfo(br.name))) throw new LxzoneError(`bridge ${br.name} does not exist; create it (ensureBridge) first`);
  const t = outboundTable(br.name);
  const dev = JSON.stringify(br.name);
  // One transaction: create-if-missing, delete, recreate — the table is replaced atomically.
  // Remember whether forwarding was off before lxzone turned it on (kept across replacements).
  const forwardWasOff = (await previousForwarding(t)) ?? (await readFile(FORWARD, 'utf8')).trim() === '0';
  const script = [
    `table ip ${t} {}`,
    `delete table ip ${t}`,
    `table ip ${t} {`,
    `  comment "${forwardWasOff ? FORWARD_WAS_OFF : FORWARD_WAS_ON}"`,
    `  chain postrouting {`,
    `    type nat hook postrouting priority srcnat; policy accept;`,
    `    ip saddr ${br.subnet} ip daddr != ${br.subnet} oifname != ${dev} masquerade comment "lxzone: zones out"`,
    `  }`,
    `  chain forward {`,
    `    type filter hook forward priority filter; policy accept;`,
    // With br_netfilter (bridge-nf-call-iptables=1) zone-to-zone frames on the bridge pass here too.
    `    iifname ${dev} oifname ${dev} accept`,
    `    iifname ${dev} accept comment "lxzone: zones may open connections out"`,
    `    oifname ${dev} ct state established,related accept`,
    `    oifname ${dev} drop comment "lxzone: nothing outside may open one in"`,
    `  }`,
    `}`,
  ].join('\n');
  await run('nft', ['-f', '-'], script + '\n');
  await writeFile(FORWARD, '1');
}

/** The forwarding state recorded when the table was first made, or undefined without a table. */
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

/** Remove the bridge's outbound table. IPv4 forwarding goes back off if lxzone turned it on and no other
 *  lxzone bridge still has outbound access; otherwise it is left as it is. */
export async function disableOutbound(cfg: BridgeConfig = {}): Promise<boolean> {
  const t = outboundTable(resolveBridge(cfg).name);
  const forwardWasOff = await previousForwarding(t);
  try {
    await run('nft', ['delete', 'table', 'ip', t]);
  } catch (err) {
    if (/No such file or directory|does not exist/.test(String(err))) return false;
    if (/cannot run nft/.test(String(err))) return false; // no nftables: nothing can have been set up
    throw err;
  }
  if (forwardWasOff) {
    const { stdout } = await run('nft', ['list', 'tables']);
    if (!/\btable ip lxzone_/.test(stdout)) await writeFile(FORWARD, '0');
  }
  return true;
}

/** Whether outbound access is on for the bridge. */
export async function outboundEnabled(cfg: BridgeConfig = {}): Promise<boolean> {
  try {
    await run('nft', ['list', 'table', 'ip', outboundTable(resolveBridge(cfg).name)]);
    return true;
  } catch {
    return false;
  }
}
