// The container endpoints: each container is an lxzone zone of the same
// name, made through createZoneWith and run by the daemon's ZoneManager
// (boot, halt, destroy), exactly as `lxzone create/boot/halt/destroy` do.
import { createZoneWith } from '../../zone/lifecycle/create.js';
import { readLogs, type LogStream } from '../../zone/lifecycle/logs.js';
import { parseUnixTime } from '../../zone/lifecycle/log-times.js';
import type { ZoneDetails } from '../../zone/lifecycle/types.js';
import type { DockerBackend } from './backend.js';
import { ContainerStore, dockerName, type ContainerMeta } from './container-store.js';
import { checkedName, containerName, zoneConfigFor, zoneNameFor, type CreateBody } from './container-create.js';
import { endpointsOf, findNetwork, networkNameOf } from './networks.js';
import { dockerState, inspectOf, summaryOf, type NetView } from './container-view.js';
import { zoneMounts } from './container-mounts.js';
import { systemDfRoute } from './system-df.js';
import { VolumeStore } from '../../zone/volumes/store.js';
import { makeContainerVolumes, removeAnonymousVolumes } from './volumes.js';
import { publishedPorts } from './ports.js';
import { noContent, notModified, type Ctx } from './context.js';
import { badRequest, conflict, DockerError } from './errors.js';
import type { Route } from './router.js';
import { frame } from './streams.js';
import { canonicalRef } from './image-model.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { constants } from 'node:os';
import { waitForExit } from './wait.js';
import { thawIfPaused } from './pause.js';

const id = (ctx: Ctx) => ctx.params.id ?? '';

function signalOf(s: string | null): NodeJS.Signals | number {
  if (!s) return 'SIGKILL';
  if (/^\d+$/.test(s)) return Number(s);
  const name = (s.toUpperCase().startsWith('SIG') ? s.toUpperCase() : `SIG${s.toUpperCase()}`) as NodeJS.Signals;
  if (!(name in constants.signals)) throw badRequest(`Invalid signal: ${s}`);
  return name;
}

function matches(b: DockerBackend, m: ContainerMeta, z: ZoneDetails, f: Record<string, string[]>, state: string): boolean {
  const labels = (m.Config.Labels as Record<string, string> | null) ?? {};
  for (const [k, vals] of Object.entries(f)) {
    const any = (pred: (v: string) => boolean) => vals.some(pred);
    switch (k) {
      case 'status':
        if (!any((v) => v === state)) return false;
        break;
      case 'name':
        if (!any((v) => new RegExp(v.replace(/^\//, '')).test(dockerName(m)))) return false;
        break;
      case 'id':
        if (!any((v) => m.Id.startsWith(v))) return false;
        break;
      case 'label':
        // Every label given must match (dockerd ANDs them; compose tells one-off containers apart this way).
        if (!vals.every((v) => (v.includes('=') ? labels[v.slice(0, v.indexOf('='))] === v.slice(v.indexOf('=') + 1) : v in labels))) return false;
        break;
      case 'ancestor':
        if (!any((v) => canonicalRef(v) === canonicalRef(m.Image) || (m.ImageID !== undefined && b.images.find(v)?.id === m.ImageID))) return false;
        break;
      case 'exited':
        if (!any((v) => state === 'exited' && String(z.lastExit?.exitCode ?? '') === v)) return false;
        break;
      default:
        throw badRequest(`invalid filter '${k}'`);
    }
  }
  return true;
}

export function containerRoutes(b: DockerBackend): Route[] {
  const { manager, containers } = b;
  const volumes = () => new VolumeStore(b.opts.store.stateDir);
  const details = async (m: ContainerMeta) => manager.inspect(m.zone);
  const net = async (z: ZoneDetails): Promise<NetView> => {
    const name = networkNameOf(z.config);
    const extra = (await endpointsOf(b, z.name, z.config)).slice(1).map((e) => ({
      name: e.name,
      id: e.id,
      aliases: e.aliases,
      prefixLen: e.prefixLen,
      gateway: e.gateway4,
      gateway6: e.gateway6,
      ...(e.lease ? { ipv4: e.lease.ipv4, ipv6: e.lease.ipv6 } : {}),
    }));
    return { prefixLen: z.address?.prefixLen4 ?? 0, gateway: z.address?.gateway4, name, id: findNetwork(b, name)?.id ?? name, aliases: z.config?.network?.aliases ?? [], ...(extra.length ? { extra } : {}) };
  };
  const running = (name: string) => manager.runningNames().includes(name);
  /** The image's Env, if the image is still there (dockerd keeps it in the container's config). */
  const imageEnv = (m: ContainerMeta): Record<string, string> => {
    const image = m.ImageID ? b.images.find(m.ImageID) ?? b.images.find(m.Image) : b.images.find(m.Image);
    try {
      return image ? (b.images.config(image).env ?? {}) : {};
    } catch {
      return {}; // an image whose config cannot be read: the container's own Env only
    }
  };
  /** The container that has this Docker name (a full id is a name nobody may take either). */
  const nameOwner = (n: string): ContainerMeta | undefined => containers.list().find((m) => dockerName(m) === n || m.Id === n);
  const nameConflict = (n: string, owner: ContainerMeta) =>
    conflict(`Conflict. The container name "/${n}" is already in use by container "${owner.Id}". You have to remove (or rename) that container to be able to reuse that name.`);
  const emit = (m: ContainerMeta, action: string, extra: Record<string, string> = {}) =>
    b.events.emit('container', action, m.Id, { name: dockerName(m), image: m.Image, ...((m.Config.Labels as Record<string, string> | null) ?? {}), ...extra });

  /** The volumes a container's zone names (read before the zone goes). */
  const volumesOf = (m: ContainerMeta) => {
    try {
      return b.opts.store.loadConfig(m.zone).volumes;
    } catch {
      return undefined; // no config: no volume of its to remove
    }
  };

  const start = async (m: ContainerMeta) => {
    if (m.paused) containers.save({ ...m, paused: false }); // a stale mark of a run that ended
    try {
      await manager.boot(m.zone);
    } catch (e) {
      // --rm: a container that could not start goes too, as with dockerd.
      if (m.HostConfig.AutoRemove === true) {
        const vols = volumesOf(m);
        await manager.destroy(m.zone, { force: true }).catch(() => undefined);
        containers.remove(m.zone);
        await removeAnonymousVolumes(b, vols);
      }
      throw e;
    }
    emit(m, 'start');
    if (m.HostConfig.AutoRemove === true) void autoRemove(m);
  };
  // --rm: the container goes once it has stopped (not when it is restarted by its policy).
  const autoRemove = async (m: ContainerMeta) => {
    await waitForExit(manager, m.zone, 'next-exit', new AbortController().signal, { alreadyStarted: true }).catch(() => undefined);
    // A client waiting for the exit code reads it first (docker run --rm waits, then the container goes).
    await sleep(500);
    const vols = volumesOf(m);
    const gone = await manager.destroy(m.zone, { force: true }).then(
      () => true,
      (e: Error) => b.log(`docker api: --rm of ${m.zone}: ${e.message}`),
    );
    containers.remove(m.zone);
    // --rm takes the container's anonymous volumes with it, as dockerd does.
    if (gone) await removeAnonymousVolumes(b, vols);
  };

  return [
    // docker system df: the containers as ps -a lists them, with their disks' sizes.
    systemDfRoute(b, async () => {
      const out = [];
      for (const m of containers.list()) {
        const z = await details(m).catch(() => undefined);
        if (z) out.push({ Id: m.Id, zone: m.zone, summary: summaryOf(m, z, await net(z), (n) => volumes().dataDir(n)) });
      }
      return out;
    }),
    {
      method: 'POST',
      path: '/containers/create',
      doc: 'create: a zone of the same name, its root the image\'s layers (an overlay, writable) or the host root read-only (image "host"); the image\'s Env/Cmd/Entrypoint/WorkingDir/User; -e (a NAME the client left unset removes the image\'s NAME too, as dockerd does), -w, -u, --entrypoint, --hostname, -m, --cpus, --pids-limit, -l, --restart, -v HOSTDIR:PATH[:ro], -v VOLUME:PATH[:ro] and --mount type=volume|bind (a volume named that does not exist is made), -v PATH and the image\'s VOLUMEs (anonymous volumes), --volumes-from, --tmpfs PATH[:size=,mode=,noexec] and --mount type=tmpfs (64 MiB unless sized), --network none|bridge|NAME with --network-alias and --ip (a user-defined network; --network A --network B: one network each, the first eth0), -p [HOSTIP:]HOSTPORT:PORT[/udp], -p PORT and -P (a free host port chosen at create); NAT out',
      handler: async (ctx) => {
        const body = await ctx.body<CreateBody>();
        const name = containerName(ctx.query.get('name'), (n) => b.opts.store.exists(n) || nameOwner(n) !== undefined);
        const existing = nameOwner(name);
        if (existing) throw nameConflict(name, existing);
        const cid = ContainerStore.newId();
        // A zone name freed by a rename, or a Docker name that is no zone name (capitals): the zone is named by the id.
        const zone = zoneNameFor(name, cid, (n) => b.opts.store.exists(n));
        if (!body.Image) throw badRequest('Config cannot be empty in order to create a container');
        const image = b.images.get(body.Image);
        const hc = body.HostConfig ?? {};
        const ports = await publishedPorts(hc.PortBindings, body.ExposedPorts as Record<string, unknown> | undefined, hc.PublishAllPorts === true);
        const imageConfig = b.images.config(image);
        // -v /PATH and the image's VOLUMEs: an anonymous volume each, as dockerd makes them.
        const mounts = zoneMounts(hc, [...Object.keys(body.Volumes ?? {}), ...(imageConfig.volumes ?? [])], (ref) => {
          const other = containers.get(ref);
          return b.opts.store.loadConfig(other.zone);
        });
        const cfg = zoneConfigFor(zone, cid, body, image, imageConfig, ports, (ref) => findNetwork(b, ref), mounts);
        const { HostConfig, NetworkingConfig: _n, ...config } = body;
        const make = async () => {
          const undoVolumes = makeContainerVolumes(b, cfg, mounts.noCopy);
          try {
            await createZoneWith(b.opts, cfg);
          } catch (e) {
            undoVolumes();
            throw e;
          }
        };
        // Volumes named: not while a volume rm or prune decides (the zone's config is what keeps a volume).
        await (cfg.volumes?.length ? b.withVolumes(make) : make());
        const meta: ContainerMeta = { Id: cid, zone, ...(zone !== name ? { name } : {}), Created: new Date().toISOString(), Image: body.Image, ImageID: image.id, Config: config, HostConfig: (HostConfig ?? {}) as Record<string, unknown> };
        containers.save(meta);
        emit(meta, 'create');
        return { status: 201, body: { Id: cid, Warnings: [] } };
      },
    },
    {
      method: 'GET',
      path: '/containers/json',
      doc: 'ps: -a, filters status/name/id/label/ancestor/exited, --format (client side)',
      handler: async (ctx) => {
        const all = ctx.flag('all');
        const f = ctx.filters();
        const out = [];
        for (const m of containers.list()) {
          const z = await details(m).catch(() => undefined);
          if (!z) continue;
          const st = dockerState(m, z);
          if (!all && st !== 'running' && st !== 'paused' && st !== 'restarting' && !f.status) continue;
          if (!matches(b, m, z, f, st)) continue;
          out.push(summaryOf(m, z, await net(z), (n) => volumes().dataDir(n)));
        }
        const limit = ctx.int('limit');
        return limit && limit > 0 ? out.slice(0, limit) : out;
      },
    },
    {
      method: 'GET',
      path: '/containers/:id/json',
      doc: 'inspect: State, Config, HostConfig, NetworkSettings (the zone\'s lasting IPv4/IPv6)',
      handler: async (ctx) => {
        const m = containers.get(id(ctx));
        const z = await details(m);
        return inspectOf(m, z, await net(z), imageEnv(m), (n) => volumes().dataDir(n));
      },
    },
    {
      method: 'POST',
      path: '/containers/:id/start',
      doc: 'start: boots the zone (304 if running)',
      handler: async (ctx) => {
        const m = containers.get(id(ctx));
        if (running(m.zone)) return notModified();
        await start(m);
        return noContent();
      },
    },
    {
      method: 'POST',
      path: '/containers/:id/stop',
      doc: 'stop: halts the zone (SIGTERM, then SIGKILL after t seconds; 304 if not running)',
      handler: async (ctx) => {
        const m = containers.get(id(ctx));
        if (!running(m.zone)) return notModified();
        await thawIfPaused(b, m.Id);
        const t = ctx.int('t') ?? ctx.int('timeout');
        await manager.halt(m.zone, t !== undefined && t >= 0 ? { timeoutMs: t * 1000 } : {});
        emit(m, 'stop'); // its die comes from the zone's end (backend.ts)
        return noContent();
      },
    },
    {
      method: 'POST',
      path: '/containers/:id/restart',
      doc: 'restart: halt then boot; the address stays',
      handler: async (ctx) => {
        const m = containers.get(id(ctx));
        const t = ctx.int('t') ?? ctx.int('timeout');
        await thawIfPaused(b, m.Id);
        if (running(m.zone)) await manager.halt(m.zone, t !== undefined && t >= 0 ? { timeoutMs: t * 1000 } : {});
        await start(m);
        emit(m, 'restart');
        return noContent();
      },
    },
    {
      method: 'POST',
      path: '/containers/:id/kill',
      doc: 'kill: a signal to the container\'s first process (default SIGKILL)',
      handler: async (ctx) => {
        const m = containers.get(id(ctx));
        const sig = signalOf(ctx.query.get('signal'));
        const z = await manager.info(m.zone);
        if (z.state !== 'running' || !z.pid) throw conflict(`Cannot kill container: ${id(ctx)}: Container ${m.Id} is not running`);
        process.kill(z.pid, sig);
        emit(m, 'kill', { signal: String(typeof sig === 'number' ? sig : constants.signals[sig]) });
        return noContent();
      },
    },
    {
      method: 'POST',
      path: '/containers/:id/wait',
      doc: 'wait: condition not-running (default), next-exit, removed; answers the exit code',
      handler: async (ctx) => {
        const m = containers.get(id(ctx));
        const condition = ctx.query.get('condition') || 'not-running';
        if (!['not-running', 'next-exit', 'removed'].includes(condition)) throw badRequest(`invalid condition: ${condition}`);
        const res = ctx.res!;
        // Headers first: the client starts the container once the wait is in place (docker run).
        res.writeHead(200, { 'Content-Type': 'application/json', 'Api-Version': '1.44' });
        res.flushHeaders();
        const ac = new AbortController();
        res.once('close', () => ac.abort());
        const code = await waitForExit(manager, m.zone, condition as 'not-running', ac.signal);
        res.end(`${JSON.stringify({ StatusCode: code, Error: null })}\n`);
        return undefined;
      },
    },
    {
      method: 'DELETE',
      path: '/containers/:id',
      doc: 'rm: destroys the zone (its address is released); -f stops it first; -v removes its anonymous volumes (not those another container names too)',
      handler: async (ctx) => {
        const m = containers.get(id(ctx));
        const force = ctx.flag('force');
        if (running(m.zone) && !force) {
          throw conflict(`You cannot remove a running container ${m.Id}. Stop the container before attempting removal or force remove`);
        }
        await thawIfPaused(b, m.Id);
        const vols = volumesOf(m);
        await manager.destroy(m.zone, { force });
        containers.remove(m.zone);
        emit(m, 'destroy');
        if (ctx.flag('v')) await removeAnonymousVolumes(b, vols);
        return noContent();
      },
    },
    {
      method: 'GET',
      path: '/containers/:id/logs',
      doc: 'logs: stdout/stderr multiplexed, -f, --tail, -t, --since, --until (the times the zone\'s keeper wrote beside each piece of output; stdout\'s lines then stderr\'s, not interleaved)',
      handler: async (ctx) => {
        const m = containers.get(id(ctx));
        const want = { stdout: ctx.flag('stdout'), stderr: ctx.flag('stderr') };
        if (!want.stdout && !want.stderr) throw badRequest('Bad parameters: you must choose at least one stream');
        const times = { timestamps: ctx.flag('timestamps'), sinceNs: parseUnixTime(ctx.query.get('since')), untilNs: parseUnixTime(ctx.query.get('until')) };
        const tailRaw = ctx.query.get('tail');
        const tail = !tailRaw || tailRaw === 'all' ? undefined : Number(tailRaw);
        if (tail !== undefined && !(Number.isInteger(tail) && tail >= 0)) throw badRequest(`invalid tail: ${tailRaw}`);
        const stream = ctx.hijack(m.Config.Tty === true ? 'application/vnd.docker.raw-stream' : 'application/vnd.docker.multiplexed-stream');
        const ac = new AbortController();
        void stream.closed.then(() => ac.abort());
        // A container with a terminal has one stream, sent as it is (as dockerd does).
        const raw = m.Config.Tty === true;
        const out = (s: LogStream) => (c: Buffer) => want[s] && stream.write(raw ? c : frame(s, c));
        await readLogs(b.opts.store, m.zone, { stdout: out('stdout'), stderr: out('stderr') }, { tail, follow: ctx.flag('follow'), running: () => running(m.zone), signal: ac.signal, times });
        stream.end();
        return undefined;
      },
    },
    {
      method: 'POST',
      path: '/containers/:id/rename',
      doc: 'rename: the Docker name, kept beside the zone (whose own name stays: it keys the zone\'s state); running or not; 409 when the name is taken',
      handler: (ctx) => {
        const m = containers.get(id(ctx));
        const raw = ctx.query.get('name') ?? '';
        if (raw === '') throw badRequest('Neither old nor new names may be empty');
        const name = checkedName(raw);
        const old = dockerName(m);
        if (name === old) throw badRequest('Renaming a container with the same name as its current name');
        const owner = nameOwner(name);
        if (owner && owner.Id !== m.Id) throw nameConflict(name, owner);
        const { name: _old, ...rest } = m;
        containers.save({ ...rest, ...(name !== m.zone ? { name } : {}) });
        emit({ ...m, name }, 'rename', { oldName: `/${old}` });
        return noContent();
      },
    },
  ];
}
