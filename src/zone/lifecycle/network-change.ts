// Moving a stopped zone to another network (docker network connect /
// disconnect): its config says which network it is on, so the change is a
// config change; the address on the old bridge goes back to that bridge's
// IPAM and a new lasting one is leased on the new bridge at once, as at create.
import { LxzoneError } from '../../errors.js';
import type { NetworkConfig } from '../config/types.js';
import { parseZoneConfig } from '../config/validate.js';
import { Ipam } from '../network/index.js';
import { bridgeOf, leaseFor, networkMode } from './host-setup.js';
import type { ManagerState } from './managed-zone.js';
import { ipamDir, isRoot } from './options.js';

/** The caller holds the zone's queue (ZoneManager.serial). */
export async function changeZoneNetworkLocked(m: ManagerState, name: string, network: NetworkConfig): Promise<void> {
  if (m.zones.has(name) || m.booting.has(name)) {
    throw new LxzoneError(`zone ${name} is running: its network changes only while it is stopped (stop it, change it, start it)`, { code: 'EBUSY' });
  }
  const old = m.store.loadConfig(name);
  const next = parseZoneConfig({ ...old, network }, name);
  const oldBridge = bridgeOf(m.opts, old);
  const newBridge = bridgeOf(m.opts, next); // refused here if the new network does not exist
  m.store.saveConfig(next);
  if (!isRoot()) return;
  const sameBridge = (oldBridge.name ?? '') === (newBridge.name ?? '') && networkMode(old) === networkMode(next);
  if (!sameBridge) await new Ipam({ stateDir: ipamDir(m.store), bridge: oldBridge }).release(name);
  if (networkMode(next) === 'zone') await leaseFor(m.opts, next);
}
