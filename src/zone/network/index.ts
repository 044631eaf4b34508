// Zone networking: a host bridge, one veth pair per zone, and an IPAM whose
// leases persist until the zone is destroyed. See docs/parts/network-cgroups.md.
export {
  DEFAULT_BRIDGE,
  DEFAULT_SUBNET,
  resolveBridge,
  vethNames,
  zoneMac,
  type BridgeConfig,
  type ResolvedBridge,
} from './addressing.js';
export { ensureBridge, removeBridge, type RemoveBridgeOptions } from './bridge.js';
export { attachZone, detachZone, type AttachOptions, type Attachment } from './veth.js';
export { Ipam, type IpamOptions, type Lease } from './ipam.js';
export { allowOutbound, revokeOutbound, outboundAllowed, outboundTable, removeOutboundTable } from './outbound.js';
export { formatPublish, parsePublish, publishPorts, publishTable, unpublishPorts, type PublishedPort } from './publish.js';
