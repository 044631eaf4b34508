// Devices (config-linux.md "Devices" and "Device allowlist"). A zone's /dev is
// lxzone's own and fixed (native/shim/mounts.cc): no host device node is ever
// bound in, and the zone cannot make one (mknod of a device needs
// CAP_MKNOD in the host's user namespace). So:
// - linux.devices entries that name a node every zone has, with its own type,
//   numbers and permissions, are taken; any other node is refused naming it.
// - linux.resources.devices rules are evaluated, in order as the devices
//   cgroup would, against the zone's own devices and noted: what they allow
//   beyond those the zone does not have, and what they deny of those (the
//   pseudo-devices runc allows every container: containerd's pod sandbox
//   denies everything) the zone keeps, since lxzone writes no devices-cgroup
//   rule. The log names each kept device and the rule that denied it.
import { normalize } from 'node:path';
import { LxzoneError } from '../errors.js';
import type { OciResources, OciSpec } from './spec.js';

function refuse(where: string, why: string): never {
  throw new LxzoneError(`config.json ${where}: ${why}`, { where, code: 'EINVAL' });
}

/** The character devices in every zone's /dev, by path. minor undefined: a range (the zone's ptys). */
interface ZoneDevice { path: string; major: number; minor?: number }
const ZONE_DEVICES: ZoneDevice[] = [
  { path: '/dev/null', major: 1, minor: 3 },
  { path: '/dev/zero', major: 1, minor: 5 },
  { path: '/dev/full', major: 1, minor: 7 },
  { path: '/dev/random', major: 1, minor: 8 },
  { path: '/dev/urandom', major: 1, minor: 9 },
  { path: '/dev/tty', major: 5, minor: 0 },
  // A symlink to pts/ptmx in the zone's own devpts.
  { path: '/dev/ptmx', major: 5, minor: 2 },
  { path: '/dev/pts/*', major: 136 },
];

type DeviceEntry = NonNullable<NonNullable<OciSpec['linux']>['devices']>[number];

/** linux.devices: notes for the zone's own nodes; refuses anything else naming linux.devices[i]. */
export function devicesOfZone(devices: DeviceEntry[], notes: string[]): void {
  const own = ZONE_DEVICES.filter((d) => d.minor !== undefined).map((d) => d.path);
  for (const [i, d] of devices.entries()) {
    const where = `linux.devices[${i}]`;
    const path = normalize(d.path);
    const dev = ZONE_DEVICES.find((z) => z.path === path && z.minor !== undefined);
    const what = `${d.path} (${d.type} ${d.major ?? '?'}:${d.minor ?? '?'})`;
    if (!dev || (d.type !== 'c' && d.type !== 'u') || d.major !== dev.major || d.minor !== dev.minor) {
      refuse(where, `${what}: device nodes beyond a zone's own (${own.join(', ')}, each with its own numbers) are not supported: no host device is bound into a zone`);
    }
    if (d.fileMode !== undefined && (d.fileMode & 0o7777) !== 0o666) refuse(`${where}.fileMode`, `${d.path} is 0666 in every zone (it asks ${(d.fileMode & 0o7777).toString(8).padStart(4, '0')})`);
    if ((d.uid !== undefined && d.uid !== 0) || (d.gid !== undefined && d.gid !== 0)) refuse(where, `${d.path} is owned by the zone's root in every zone (it asks ${d.uid ?? 0}:${d.gid ?? 0})`);
    notes.push(`${where}: ${d.path} is in every zone's /dev`);
  }
}

type DeviceRule = NonNullable<OciResources['devices']>[number];

const wild = (n: number | undefined): boolean => n === undefined || n === null || n < 0;

/**
 * linux.resources.devices against the zone's own devices (read and write:
 * mknod is never possible in a zone). The last matching rule decides, from
 * "everything allowed" (a new devices cgroup's start; runc's and
 * containerd's lists begin with a deny-all). A rule naming one pty of the
 * zone's range counts when it denies (the zone has that pty) and not when it
 * allows (the range is not thereby allowed). Returns the zone devices the
 * rules deny, as noted.
 */
export function deviceRulesOfZone(rules: DeviceRule[], where: string, notes: string[]): string[] {
  if (!rules.length) return [];
  const kept: string[] = [];
  for (const dev of ZONE_DEVICES) {
    const allowed: Record<string, boolean> = { r: true, w: true };
    const decidedBy: Record<string, number> = {};
    for (const [i, rule] of rules.entries()) {
      const type = rule.type ?? 'a';
      if (type !== 'a' && type !== 'c') continue;
      if (!wild(rule.major) && rule.major !== dev.major) continue;
      const whole = wild(rule.minor) || (dev.minor !== undefined && rule.minor === dev.minor);
      const part = !whole && dev.minor === undefined;
      if (!whole && !part) continue;
      if (part && rule.allow) continue;
      for (const a of (rule.access ?? 'rwm').split('')) {
        if (a in allowed) {
          allowed[a] = rule.allow;
          decidedBy[a] = i;
        }
      }
    }
    const denied = Object.keys(allowed).filter((a) => !allowed[a]);
    if (denied.length) kept.push(`${dev.path} (${denied.join('')}, by ${where}[${decidedBy[denied[0]!]}])`);
  }
  notes.push(kept.length
    ? `${where}: denies the zone's own ${kept.join(', ')}: kept, as every zone has them (lxzone writes no devices-cgroup rules; a zone has no other device)`
    : `${where}: every zone device stays allowed; the zone has no other device to allow or deny`);
  return kept;
}
