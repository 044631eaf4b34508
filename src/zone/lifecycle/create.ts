// lxzone create: validate a configuration completely (schema, host paths,
// the policy's extra rules, what a rootless caller cannot have), bring its
// image into the image store (a file or directory image is imported there),
// take its static address if it asks for one, and store it. Nothing
// runs; no daemon is needed. A failure leaves nothing behind.
import { rmSync } from 'node:fs';
import { LxzoneError } from '../../errors.js';
import { checkHostPaths } from '../config/host-paths.js';
import type { ZoneConfig } from '../config/types.js';
import { parseZoneConfig } from '../config/validate.js';
import { prepareZoneRootfs } from '../image/prepare.js';
import { ImageStore } from '../image/store/images.js';
import { forgetImported, importForZone } from '../image/store/zone-import.js';
import { bridgeOf, checkPrivileges, extraBridgesOf, extraLeaseFor, leaseFor, networkMode } from './host-setup.js';
import { checkPolicy } from './plan.js';
import { isRoot, type LifecycleOptions } from './options.js';
import { Ipam } from '../network/index.js';
import { ipamDir } from './options.js';
import { ensureZoneIds, releaseZoneIds } from '../ids.js';
import { createZoneDisk, unmountZoneDisk, zoneDiskWarnings } from './zone-disk.js';
import { bootsOwnInit } from './system-zone.js';

function sourceOf(input: unknown): string {
  const name = (input as { name?: unknown } | null)?.name;
  return typeof name === 'string' && name.length <= 64 ? name : 'config';
}

export interface CreateResult {
  config: ZoneConfig;
  /** The zone's IPv4 address when it has a zone network. */
  ipv4?: string;
  ipv6?: string;
  warnings: string[];
}

/** `source` names the configuration in errors: a file, else the zone's name as given. */
export async function createZoneWith(opts: LifecycleOptions, input: unknown, source = sourceOf(input)): Promise<CreateResult> {
  const cfg = parseZoneConfig(input, source);
  const store = opts.store;
  checkHostPaths(cfg, source);
  checkPolicy(cfg);
  checkPrivileges(cfg);
  if (cfg.network?.userNetwork !== undefined) bridgeOf(opts, cfg); // refused here if the network does not exist
  extraBridgesOf(opts, cfg, true); // and here if a further one does not
  return store.withLock(
    cfg.name,
    async () => {
      if (store.exists(cfg.name)) throw new LxzoneError(`zone ${cfg.name} already exists`, { code: 'EEXIST' });
      const images = new ImageStore({ stateDir: store.stateDir, runtimeDir: store.runtimeDir });
      // An image file or directory goes into the image store (once per file:
      // zone-import.ts); the zone is made from the stored image like a pulled one.
      const imported = cfg.rootfs.type === 'image' ? await importForZone(images, cfg.rootfs) : undefined;
      let saved: ZoneConfig;
      try {
        saved = store.saveConfig(imported ? { ...cfg, rootfs: imported.rootfs } : cfg, { create: true });
      } catch (e) {
        // A first write that failed (a full disk) must not leave an empty zone directory.
        rmSync(store.paths(cfg.name).zoneDir, { recursive: true, force: true });
        if (imported) await forgetImported(images, imported);
        throw e;
      }
      const warnings: string[] = [...(imported?.warnings ?? [])];
      try {
        let system = false;
        // The zone's own host id range, before its image is unpacked for it.
        const ids = isRoot() ? ensureZoneIds(store, saved.name) : undefined;
        // A zone of the image store is recorded as the image's user under the
        // store's lock, before anything of it is built: a concurrent rmi
        // either sees it or has removed the image, and then this create fails.
        if (saved.rootfs.type === 'store') await images.claimForZone(saved.rootfs.digest, saved.name, `image ${saved.rootfs.ref}`);
        // Claimed: the hold the import took (against a prune until now) is no longer needed.
        imported?.release();
        // With a disk cap the image is unpacked onto the zone's disk, which stays unmounted until boot.
        const disk = await createZoneDisk(store, saved);
        try {
          const prepared = prepareZoneRootfs(store, saved, { ...(ids ? { idShift: ids.idBase } : {}), ...(disk ? { rootfsDir: disk.rootfs } : {}) });
          warnings.push(...prepared.warnings);
          system = bootsOwnInit(saved, prepared, prepared.image);
        } finally {
          if (disk) await unmountZoneDisk(store, saved.name);
        }
        // Decided once, here, where the unpacked root can be looked at: the zone boots its own init.
        if (system && saved.system === undefined) saved = store.saveConfig({ ...saved, system: true });
        warnings.push(...zoneDiskWarnings(saved));
        const out: CreateResult = { config: saved, warnings };
        if (isRoot() && networkMode(saved) === 'zone') {
          // The address is the zone's from now until destroy (a static one is refused here if taken).
          const lease = await leaseFor(opts, saved);
          out.ipv4 = lease.ipv4;
          out.ipv6 = lease.ipv6;
          for (const net of saved.network?.extraNetworks ?? []) await extraLeaseFor(opts, saved.name, net);
        }
        return out;
      } catch (e) {
        await unmountZoneDisk(store, cfg.name).catch(() => undefined);
        releaseZoneIds(store, cfg.name);
        store.remove(cfg.name);
        if (imported) await forgetImported(images, imported);
        if (isRoot()) {
          await new Ipam({ stateDir: ipamDir(store), bridge: bridgeOfSafe(opts, cfg) }).release(cfg.name).catch(() => undefined);
          for (const x of extraBridgesOf(opts, cfg)) await new Ipam({ stateDir: ipamDir(store), bridge: x.bridge }).release(cfg.name).catch(() => undefined);
        }
        throw e;
      }
    },
    { purpose: 'create' },
  );
}

/** The bridge whose lease a failed create gives back (the default one if the network is unknown: nothing was leased there). */
function bridgeOfSafe(opts: LifecycleOptions, cfg: ZoneConfig) {
  try {
    return bridgeOf(opts, cfg);
  } catch {
    return opts.bridge;
  }
}
