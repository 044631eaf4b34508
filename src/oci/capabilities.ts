// process.capabilities → the five sets as bit masks (capability numbers of
// <linux/capability.h>). The shim grants each set only within the zone's own
// (native/shim/capabilities.cc), so asking for more never gives more; what
// is asked and not granted is noted.
import { LxzoneError } from '../errors.js';
import type { CapSets } from '../zone/shim-config.js';
import type { OciCapabilities } from './spec.js';

/** Linux capability numbers, in order (CAP_CHOWN = 0 … CAP_CHECKPOINT_RESTORE = 40). */
const CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW',
  'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD',
  'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG',
  'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/** The zone's own set (kZoneCaps in native/shim/capabilities.cc; test/85.oci.capabilities checks it in a zone). */
export const ZONE_CAPS = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_AUDIT_WRITE', 'CAP_SETFCAP', 'CAP_SYS_BOOT', 'CAP_SYSLOG',
  'CAP_SYS_ADMIN', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_OWNER',
];

const SETS = ['bounding', 'effective', 'permitted', 'inheritable', 'ambient'] as const;

export function capabilitySets(c: OciCapabilities, where: string, notes: string[]): CapSets {
  const out = {} as CapSets;
  const notGranted = new Set<string>();
  for (const set of SETS) {
    let mask = 0n;
    for (const [i, name] of (c[set] ?? []).entries()) {
      const n = CAPS.indexOf(name);
      if (n < 0) throw new LxzoneError(`config.json ${where}.${set}[${i}]: ${name} is not a Linux capability`, { where: `${where}.${set}[${i}]`, code: 'EINVAL' });
      if (!ZONE_CAPS.includes(name)) notGranted.add(name);
      mask |= 1n << BigInt(n);
    }
    out[set] = mask;
  }
  if (notGranted.size) notes.push(`${where}: ${[...notGranted].join(', ')} not granted (a zone's processes hold at most ${ZONE_CAPS.join(', ')}, in the zone's user namespace)`);
  return out;
}
