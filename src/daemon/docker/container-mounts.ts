// A create request's mounts as the zone's: `-v /HOST:/PATH` and `--mount
// type=bind` are binds; `-v NAME:/PATH` and `--mount type=volume` are
// volumes of lxzone's volume store (ZoneConfig.volumes, resolved by the
// lifecycle at each boot); `-v /PATH` (Config.Volumes), `--mount
// type=volume` without a source and the image's Volumes are anonymous
// volumes (a 64-hex name each), as dockerd makes them; `--volumes-from`
// takes another container's. Docker's `inspect` Mounts come from here too.
import { randomBytes } from 'node:crypto';
import { DEFAULT_TMPFS_BYTES, parseTmpfsFlag } from '../../zone/config/flags.js';
import type { BindMount, TmpfsMount, VolumeMount, ZoneConfig } from '../../zone/config/types.js';
import { normalizeZonePath } from '../../zone/config/validate.js';
import { checkVolumeName } from '../../zone/volumes/store.js';
import { badRequest } from './errors.js';

/** The label dockerd (23+) puts on the volumes it makes for one container; prune without all=true takes only these. */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

export interface MountsRequest {
  Binds?: string[] | null;
  /** --tmpfs PATH[:OPTIONS]: {PATH: "size=64m,mode=1777,noexec"}. */
  Tmpfs?: Record<string, string> | null;
  Mounts?: unknown[] | null;
  VolumesFrom?: string[] | null;
}

export interface ZoneMounts {
  binds: BindMount[];
  volumes: VolumeMount[];
  tmpfs: TmpfsMount[];
  /** Volumes given with nocopy (not seeded from the image when they are new). */
  noCopy: string[];
}

const MODES = ['ro', 'rw', 'z', 'Z', 'rprivate', 'private', 'rslave', 'slave', 'rshared', 'shared', 'nocopy', 'consistent', 'cached', 'delegated'];

function zonePath(p: string | undefined, spec: string): string {
  if (!p || !p.startsWith('/')) throw badRequest(`invalid mount config: mount path must be absolute: '${spec}'`);
  if (p.includes('\0') || p.split('/').includes('..')) throw badRequest(`invalid mount config: mount path must not contain '..': '${spec}'`);
  const z = normalizeZonePath(p);
  if (z === '/') throw badRequest(`invalid specification: destination can't be '/' in '${spec}'`);
  return z;
}

function volumeName(name: string): string {
  try {
    checkVolumeName(name);
  } catch (e) {
    throw badRequest(`create ${name}: ${(e as Error).message}`);
  }
  return name;
}

export const anonymousName = (): string => randomBytes(32).toString('hex');

/** `-v` entries: HOST:PATH[:MODE] (a bind) or NAME:PATH[:MODE] (a volume). */
function fromBinds(binds: string[], out: ZoneMounts): void {
  for (const spec of binds) {
    const parts = spec.split(':');
    if (parts.length < 2 || parts.length > 3 || !parts[0]) throw badRequest(`invalid volume specification: '${spec}'`);
    const [src, dst, mode = ''] = parts as [string, string, string?];
    const modes = mode.split(',').filter(Boolean);
    for (const m of modes) if (!MODES.includes(m)) throw badRequest(`invalid mode: ${m}`);
    const readOnly = modes.includes('ro');
    const zone = zonePath(dst, spec);
    if (src.startsWith('/')) out.binds.push({ host: src, zone, readOnly });
    else {
      out.volumes.push({ name: volumeName(src), zone, readOnly });
      if (modes.includes('nocopy')) out.noCopy.push(src);
    }
  }
}

/**
 * `--tmpfs PATH[:OPTS]`: size= and mode= are the zone's tmpfs (64 MiB when no
 * size is given: a zone's tmpfs is always bounded); rw, nosuid, nodev are what
 * every zone tmpfs is; noexec mounts it noexec (the last of exec/noexec
 * wins, as with dockerd), ro is refused.
 */
function fromTmpfs(tmpfs: Record<string, string>, out: ZoneMounts): void {
  for (const [path, opts] of Object.entries(tmpfs)) {
    const given = opts.split(',');
    const noexec = given.filter((o) => o === 'exec' || o === 'noexec').at(-1) === 'noexec';
    const keep = given.filter((o) => o && !['rw', 'nosuid', 'nodev', 'noexec', 'exec', 'suid', 'dev'].includes(o));
    if (noexec) keep.push('noexec');
    if (keep.includes('ro')) throw badRequest(`invalid tmpfs option ro for ${path}: a read-only tmpfs is not supported by lxzone`);
    try {
      out.tmpfs.push(parseTmpfsFlag(keep.length ? `${path}:${keep.join(',')}` : path));
    } catch (e) {
      throw badRequest(`invalid tmpfs ${path}: ${(e as Error).message}`);
    }
  }
}

interface MountSpec {
  Type?: string;
  Source?: string;
  Target?: string;
  ReadOnly?: boolean;
  VolumeOptions?: { NoCopy?: boolean; Labels?: Record<string, string> | null; DriverConfig?: { Name?: string } | null } | null;
  /** Options: API 1.46's [["noexec"], ["exec"]] flags. */
  TmpfsOptions?: { SizeBytes?: number; Mode?: number; Options?: string[][] | null } | null;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean } | null;
}

/** `--mount` entries (HostConfig.Mounts): type bind, volume or tmpfs. */
function fromMounts(mounts: unknown[], out: ZoneMounts): void {
  for (const raw of mounts) {
    const m = (raw ?? {}) as MountSpec;
    const spec = `type=${m.Type ?? ''},source=${m.Source ?? ''},target=${m.Target ?? ''}`;
    const zone = zonePath(m.Target, spec);
    const readOnly = m.ReadOnly === true;
    if (m.Type === 'bind') {
      if (!m.Source?.startsWith('/')) throw badRequest(`invalid mount config for type "bind": invalid mount path: '${m.Source ?? ''}' mount path must be absolute`);
      if (m.VolumeOptions) throw badRequest('invalid mount config for type "bind": field VolumeOptions must not be specified');
      out.binds.push({ host: m.Source, zone, readOnly });
    } else if (m.Type === 'volume') {
      if (m.BindOptions) throw badRequest('invalid mount config for type "volume": field BindOptions must not be specified');
      const driver = m.VolumeOptions?.DriverConfig?.Name;
      if (driver && driver !== 'local') throw badRequest(`volume driver ${driver} is not supported: lxzone has the local driver only`);
      if (m.Source) {
        out.volumes.push({ name: volumeName(m.Source), zone, readOnly });
        if (m.VolumeOptions?.NoCopy) out.noCopy.push(m.Source);
      } else out.volumes.push({ name: anonymousName(), zone, readOnly, anonymous: true });
    } else if (m.Type === 'tmpfs') {
      if (m.Source) throw badRequest('invalid mount config for type "tmpfs": field Source must not be specified');
      if (readOnly) throw badRequest('invalid mount config for type "tmpfs": a read-only tmpfs is not supported by lxzone');
      const size = m.TmpfsOptions?.SizeBytes;
      const mode = m.TmpfsOptions?.Mode;
      const noexec = (m.TmpfsOptions?.Options ?? []).map((o) => o[0]).filter((o) => o === 'exec' || o === 'noexec').at(-1) === 'noexec';
      out.tmpfs.push({ path: zone, sizeBytes: size && size > 0 ? Math.max(size, 4096) : DEFAULT_TMPFS_BYTES, ...(mode !== undefined && mode !== 0 ? { mode: mode & 0o7777 } : {}), ...(noexec ? { noexec: true } : {}) });
    } else throw badRequest(`mount type ${m.Type ?? '(none)'} is not supported by lxzone: bind, volume and tmpfs are`);
  }
}

/**
 * The zone's binds and volumes for a create request. `anonymousPaths`: the
 * request's Config.Volumes and the image's Volumes, each an anonymous volume
 * unless a mount of the request is there already. `volumesFrom`: the
 * configuration of the container a --volumes-from names.
 */
export function zoneMounts(hc: MountsRequest, anonymousPaths: string[], volumesFrom: (ref: string) => ZoneConfig): ZoneMounts {
  const out: ZoneMounts = { binds: [], volumes: [], tmpfs: [], noCopy: [] };
  fromBinds(hc.Binds ?? [], out);
  fromMounts(hc.Mounts ?? [], out);
  fromTmpfs(hc.Tmpfs ?? {}, out);
  const taken = (p: string) => out.binds.some((b) => b.zone === p) || out.volumes.some((v) => v.zone === p) || out.tmpfs.some((t) => t.path === p);
  for (const spec of hc.VolumesFrom ?? []) {
    const [ref = '', mode = ''] = spec.split(':');
    if (mode && mode !== 'ro' && mode !== 'rw') throw badRequest(`invalid mode for volumes-from: ${mode}`);
    const other = volumesFrom(ref);
    const ro = (given: boolean) => (mode === '' ? given : mode === 'ro');
    // Theirs, at the same paths (an anonymous one is shared, not copied: it stays the other container's).
    for (const b of other.binds) if (!taken(b.zone)) out.binds.push({ host: b.host, zone: b.zone, readOnly: ro(b.readOnly) });
    for (const v of other.volumes ?? []) if (!taken(v.zone)) out.volumes.push({ name: v.name, zone: v.zone, readOnly: ro(v.readOnly) });
  }
  const seen = new Set<string>();
  for (const p of [...out.binds.map((b) => b.zone), ...out.volumes.map((v) => v.zone), ...out.tmpfs.map((t) => t.path)]) {
    if (seen.has(p)) throw badRequest(`Duplicate mount point: ${p}`);
    seen.add(p);
  }
  for (const p of anonymousPaths) {
    const zone = zonePath(p, p);
    if (!taken(zone)) out.volumes.push({ name: anonymousName(), zone, readOnly: false, anonymous: true });
  }
  return out;
}

/** What `docker inspect` shows in Mounts: binds and volumes (with where each volume's data is). */
export function mountsView(cfg: ZoneConfig | undefined, dataDir: (name: string) => string): object[] {
  const binds = (cfg?.binds ?? []).map((b) => ({ Type: 'bind', Source: b.host, Destination: b.zone, Mode: b.readOnly ? 'ro' : '', RW: !b.readOnly, Propagation: 'rprivate' }));
  const volumes = (cfg?.volumes ?? []).map((v) => ({ Type: 'volume', Name: v.name, Source: dataDir(v.name), Destination: v.zone, Driver: 'local', Mode: v.readOnly ? 'ro' : 'z', RW: !v.readOnly, Propagation: '' }));
  return [...binds, ...volumes];
}

/** HostConfig.Binds as dockerd shows them: the -v entries (anonymous volumes are not among them). */
export function bindsView(cfg: ZoneConfig | undefined): string[] | null {
  if (!cfg) return null;
  return [
    ...cfg.binds.map((b) => `${b.host}:${b.zone}${b.readOnly ? ':ro' : ''}`),
    ...(cfg.volumes ?? []).filter((v) => !v.anonymous).map((v) => `${v.name}:${v.zone}${v.readOnly ? ':ro' : ''}`),
  ];
}
