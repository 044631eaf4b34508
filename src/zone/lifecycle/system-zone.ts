// System zones: a zone created without a command from a root that has an
// init boots that init (/sbin/init: systemd on Debian) as its pid 1 and stays
// up until halted, as a SmartOS zone does. Everything lxzone does differently
// for such a zone is decided here; the shim's part (cgroup2 on
// /sys/fs/cgroup, /run/systemd/container, CAP_SYS_ADMIN) follows the `system`
// record of its config, the delegated cgroup is src/zone/cgroups/delegate.ts.
// See docs/parts/system-zones.md.
import { randomUUID } from 'node:crypto';
import { lstatSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { SyscallRules } from '../../policy/types.js';
import type { ZoneConfig } from '../config/types.js';
import type { ImageConfig } from '../image/manifests.js';
import type { BindMount } from '../config/types.js';
import { layeredEntry } from '../image/store/layered.js';
import { writeFileAtomic } from '../state/atomic.js';
import { isRoot } from './options.js';

export const SYSTEM_INIT = '/sbin/init';

/**
 * How lxzone asks a system zone to shut down: SIGRTMIN+3, systemd's "halt"
 * (what Docker's STOPSIGNAL for systemd images and systemd-nspawn send).
 * glibc's SIGRTMIN is 34: the kernel's first two real-time signals are
 * glibc's own.
 */
export const SYSTEM_STOP_SIGNAL = 34 + 3;

/** How long a halt waits for a system zone's init to stop its services before it is killed. */
export const SYSTEM_HALT_GRACE_MS = 60_000;

/** Which syscalls the zone's root may use although the profile refuses them, and why. */
export const SYSTEM_ZONE_RULES: SyscallRules[] = [
  {
    names: ['mount', 'umount', 'umount2', 'fsopen', 'fsconfig', 'fsmount', 'fspick', 'open_tree', 'move_mount', 'mount_setattr'],
    disposition: 'host',
    comment:
      "A system zone's init sets up its services' mount namespaces (PrivateTmp=, ProtectSystem=, …). The kernel confines these calls to mount namespaces that the zone's user namespace owns; every mount lxzone made is locked there (its flags and masks cannot be changed or removed), and proc, sysfs and cgroup cannot be mounted (their namespaces belong to the host's user namespace).",
  },
];

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether a zone made without a command boots its root's own init: as root
 * (a delegated cgroup needs it), from an image or directory root (never the
 * host's own init), when the image declares no command of its own (a Docker
 * image's Entrypoint/Cmd still wins, as with docker) and the root has
 * /sbin/init: in its directory, or in the merged layers of an image-store
 * image. Decided once, at create.
 */
export function bootsOwnInit(cfg: ZoneConfig, root: { rootfs?: string; layers?: string[] }, image: ImageConfig | undefined): boolean {
  if (cfg.system !== undefined) return cfg.system;
  if (cfg.command !== undefined || (root.rootfs === undefined && root.layers === undefined) || !isRoot()) return false;
  if ((image?.entrypoint?.length ?? 0) > 0 || (image?.cmd?.length ?? 0) > 0) return false;
  // /sbin is a link to usr/sbin in a merged-/usr root (Debian 12): either place.
  const has = (rel: string) => (root.rootfs !== undefined ? exists(join(root.rootfs, rel)) : layeredEntry(root.layers ?? [], rel) !== undefined);
  return has('usr/sbin/init') || has('sbin/init');
}

/** The process a system zone boots: the init as pid 1 (no reaper), told it runs in a container. */
export function systemZoneProcess(env: Record<string, string>): { argv: string[]; env: Record<string, string> } {
  // container=: how systemd knows it is in a container (systemd-detect-virt prints it).
  return { argv: [SYSTEM_INIT], env: { ...env, container: 'lxzone' } };
}

function bootIdFile(runtimeDir: string, name: string): string {
  return join(runtimeDir, 'zones', `${name}.boot-id`);
}

/**
 * A boot id of the zone's own, new at every boot, over the zone's
 * /proc/sys/kernel/random/boot_id (the kernel's is the host's, the same
 * across zone reboots): journald files each boot under it, so `journalctl
 * -b` and `--list-boots` see the zone's boots, as on a machine.
 */
export function systemZoneProcBinds(runtimeDir: string, name: string): BindMount[] {
  const file = bootIdFile(runtimeDir, name);
  writeFileAtomic(file, `${randomUUID()}\n`, 0o444);
  return [{ host: file, zone: '/proc/sys/kernel/random/boot_id', readOnly: true }];
}

/** After the zone stopped (cleanupHost). */
export function removeSystemZoneFiles(runtimeDir: string, name: string): void {
  rmSync(bootIdFile(runtimeDir, name), { force: true });
}
