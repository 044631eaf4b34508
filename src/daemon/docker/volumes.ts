// The volumes Docker clients see: lxzone's volume store (src/zone/volumes/),
// the one `lxzone volume` and every zone's `volumes` use. The local driver
// only; a volume is in use while any zone's configuration names it, running
// or not (dockerd counts stopped containers too).
import type { VolumeMount, ZoneConfig } from '../../zone/config/types.js';
import { VolumeStore, type VolumeRecord } from '../../zone/volumes/store.js';
import { volumesByZone } from '../../zone/volumes/users.js';
import type { DockerBackend } from './backend.js';
import { ANONYMOUS_LABEL, anonymousName } from './container-mounts.js';
import { noContent, type Ctx } from './context.js';
import { badRequest, conflict, notFound } from './errors.js';
import type { Route } from './router.js';

interface CreateVolumeBody {
  Name?: string;
  Driver?: string;
  DriverOpts?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
}

/** A volume as dockerd shows it (UsageData only where asked: df). */
export function volumeView(store: VolumeStore, v: VolumeRecord, usage?: { refs: number }): object {
  return {
    CreatedAt: v.createdAt,
    Driver: 'local',
    Labels: { ...v.labels, ...(v.anonymous ? { [ANONYMOUS_LABEL]: '' } : {}) },
    Mountpoint: store.dataDir(v.name),
    Name: v.name,
    Options: Object.keys(v.options).length ? v.options : null,
    Scope: 'local',
    ...(usage ? { UsageData: { Size: store.size(v.name), RefCount: usage.refs } } : {}),
  };
}

/** Volume name -> how many zones name it. */
function refCounts(b: DockerBackend): Map<string, number> {
  const out = new Map<string, number>();
  for (const vols of volumesByZone(b.opts.store).values()) for (const n of new Set(vols)) out.set(n, (out.get(n) ?? 0) + 1);
  return out;
}

/** The Docker ids (or zone names, for zones that are not containers) of what uses the volume. */
function usersOf(b: DockerBackend, name: string): string[] {
  const out: string[] = [];
  for (const [zone, vols] of volumesByZone(b.opts.store)) if (vols.includes(name)) out.push(b.containers.byZone(zone)?.Id ?? zone);
  return out;
}

function labelMatches(v: object, want: string[]): boolean {
  const labels = (v as { Labels: Record<string, string> }).Labels;
  return want.every((w) => (w.includes('=') ? labels[w.slice(0, w.indexOf('='))] === w.slice(w.indexOf('=') + 1) : w in labels));
}

const truth = (s: string): boolean => {
  if (['1', 'true', 'True'].includes(s)) return true;
  if (['0', 'false', 'False'].includes(s)) return false;
  throw badRequest(`invalid filter 'dangling=${s}'`);
};

/**
 * The volumes a create request needs, made now (dockerd makes them at
 * create, so `docker volume ls` shows them at once). Answers an undo: the
 * ones made here go again if the container is not made.
 */
export function makeContainerVolumes(b: DockerBackend, cfg: ZoneConfig, noCopy: string[]): () => void {
  const store = new VolumeStore(b.opts.store.stateDir);
  const made: string[] = [];
  for (const v of cfg.volumes ?? []) {
    const { created } = store.create(v.name, v.anonymous ? { anonymous: true } : {});
    if (!created) continue;
    made.push(v.name);
    // nocopy: a new volume is not seeded from the image (marked as had).
    if (noCopy.includes(v.name)) store.markUsed(v.name);
    b.events.emit('volume', 'create', v.name, { driver: 'local' });
  }
  return () => {
    for (const n of made) store.remove(n);
  };
}

/**
 * `docker rm -v` and `--rm`: the container's anonymous volumes go with it,
 * unless another zone names one too (--volumes-from). Named volumes stay.
 */
export function removeAnonymousVolumes(b: DockerBackend, volumes: VolumeMount[] | undefined): Promise<void> {
  if (!volumes?.some((v) => v.anonymous)) return Promise.resolve();
  return b.withVolumes(() => {
    const store = new VolumeStore(b.opts.store.stateDir);
    for (const v of volumes) {
      if (!v.anonymous || !store.get(v.name) || usersOf(b, v.name).length > 0) continue;
      store.remove(v.name);
      b.events.emit('volume', 'destroy', v.name, { driver: 'local' });
    }
  });
}

export function volumeRoutes(b: DockerBackend): Route[] {
  // Made at the first request (the route table is also read without a backend: the docs).
  let made: VolumeStore | undefined;
  const vs = (): VolumeStore => (made ??= new VolumeStore(b.opts.store.stateDir));
  const need = (ctx: Ctx): VolumeRecord => {
    const name = ctx.params.name ?? '';
    const v = vs().get(name);
    if (!v) throw notFound(`get ${name}: no such volume`);
    return v;
  };
  const remove = (v: VolumeRecord) => {
    vs().remove(v.name);
    b.events.emit('volume', 'destroy', v.name, { driver: 'local' });
  };
  return [
    {
      method: 'GET',
      path: '/volumes',
      doc: 'volume ls: lxzone\'s volumes (the local driver); filters name, label, dangling, driver',
      handler: (ctx) => {
        const f = ctx.filters();
        for (const k of Object.keys(f)) if (!['name', 'label', 'dangling', 'driver'].includes(k)) throw badRequest(`invalid filter '${k}'`);
        const refs = refCounts(b);
        const dangling = f.dangling?.map(truth);
        const out = vs()
          .list()
          .map((v) => ({ rec: v, view: volumeView(vs(), v) }))
          .filter(({ rec, view }) =>
            (!f.name || f.name.some((n) => rec.name.includes(n))) &&
            (!f.driver || f.driver.includes('local')) &&
            (!f.label || labelMatches(view, f.label)) &&
            (!dangling || dangling.some((d) => d === !refs.has(rec.name))),
          )
          .map(({ view }) => view);
        return { Volumes: out, Warnings: null };
      },
    },
    {
      method: 'POST',
      path: '/volumes/create',
      doc: 'volume create [NAME] [--label] [--opt]: a directory under lxzone\'s state, its files owned by zone ids as such and mounted id-mapped into each zone that names it (every zone sees the same owners as its own ids); no NAME: a 64-hex one; an existing NAME is answered as it is; driver local only (--opt kept, not acted on)',
      handler: async (ctx) => {
        const body = await ctx.body<CreateVolumeBody>();
        const driver = body.Driver || 'local';
        if (driver !== 'local') throw notFound(`create ${body.Name ?? ''}: error looking up volume plugin ${driver}: plugin "${driver}" not found (lxzone has the local driver only)`);
        const name = body.Name || anonymousName();
        let res;
        try {
          res = vs().create(name, { labels: body.Labels ?? {}, options: body.DriverOpts ?? {} });
        } catch (e) {
          throw badRequest(`create ${name}: ${(e as Error).message}`);
        }
        if (res.created) b.events.emit('volume', 'create', name, { driver: 'local' });
        return { status: 201, body: volumeView(vs(), res.volume) };
      },
    },
    { method: 'GET', path: '/volumes/:name', doc: 'volume inspect: Name, Mountpoint (its data directory on the host), Labels, Options, CreatedAt', handler: (ctx) => volumeView(vs(), need(ctx)) },
    {
      method: 'DELETE',
      path: '/volumes/:name',
      doc: 'volume rm: the volume and its files (removed through directory fds, never following a link a zone planted); 409 while any container (running or not) names it, -f too; -f: no error when it does not exist',
      handler: (ctx) => b.withVolumes(() => {
        const name = ctx.params.name ?? '';
        if (!vs().get(name)) {
          if (ctx.flag('force')) return noContent();
          throw notFound(`get ${name}: no such volume`);
        }
        const users = usersOf(b, name);
        if (users.length > 0) throw conflict(`remove ${name}: volume is in use - [${users.join(', ')}]`);
        remove(need(ctx));
        return noContent();
      }),
    },
    {
      method: 'POST',
      path: '/volumes/prune',
      doc: 'volume prune: the volumes no container names; API >= 1.42 only anonymous ones unless filter all=true (as dockerd 23+); label filters (label!= too)',
      handler: (ctx) => b.withVolumes(() => {
        const f = ctx.filters();
        for (const k of Object.keys(f)) if (!['label', 'label!', 'all'].includes(k)) throw badRequest(`invalid filter '${k}'`);
        const [maj = 1, min = 0] = (ctx.version || '1.44').split('.').map(Number);
        const all = f.all ? f.all.some(truth) : maj === 1 && min < 42;
        const refs = refCounts(b);
        const deleted: string[] = [];
        let reclaimed = 0;
        for (const v of vs().list()) {
          if (refs.has(v.name)) continue;
          const view = volumeView(vs(), v);
          if (!all && !v.anonymous) continue;
          if (f.label && !labelMatches(view, f.label)) continue;
          if (f['label!'] && f['label!'].some((l) => labelMatches(view, [l]))) continue;
          const size = vs().size(v.name);
          remove(v);
          deleted.push(v.name);
          if (size > 0) reclaimed += size;
        }
        return { VolumesDeleted: deleted, SpaceReclaimed: reclaimed };
      }),
    },
  ];
}
