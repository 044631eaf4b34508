// docker events (GET /events): what happened through this API, as dockerd
// reports it: {Type, Action, Actor: {ID, Attributes}, time, timeNano}. The
// handlers emit as they act (create, start, stop, restart, kill, destroy;
// image pull, untag, delete); a container's own exit while nobody acted on
// it is not reported yet. The last events are kept for `--since`.
import type { DockerBackend } from './backend.js';
import type { Route } from './router.js';
import { badRequest } from './errors.js';

export interface DockerEvent {
  Type: 'container' | 'image' | 'network' | 'volume';
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
}

const KEEP = 256;
const FILTERS = ['type', 'event', 'container', 'image', 'label'];

export class DockerEvents {
  private readonly recent: DockerEvent[] = [];
  private readonly listeners = new Set<(e: DockerEvent) => void>();

  emit(type: DockerEvent['Type'], action: string, id: string, attributes: Record<string, string> = {}): void {
    const ns = Date.now() * 1e6;
    const e: DockerEvent = { Type: type, Action: action, Actor: { ID: id, Attributes: attributes }, scope: 'local', time: Math.floor(ns / 1e9), timeNano: ns };
    this.recent.push(e);
    if (this.recent.length > KEEP) this.recent.shift();
    for (const l of this.listeners) l(e);
  }

  since(t: number): DockerEvent[] {
    return this.recent.filter((e) => e.timeNano >= t * 1e9);
  }

  subscribe(fn: (e: DockerEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }
}

/** Docker's time arguments: unix seconds, with a fraction. */
function seconds(v: string | null, what: string): number | undefined {
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw badRequest(`invalid ${what}: ${v}`);
  return n;
}

function matches(e: DockerEvent, f: Record<string, string[]>): boolean {
  for (const [k, vals] of Object.entries(f)) {
    const a = e.Actor.Attributes;
    const ok =
      k === 'type' ? vals.includes(e.Type)
      : k === 'event' ? vals.includes(e.Action)
      : k === 'container' ? e.Type === 'container' && vals.some((v) => v === a.name || e.Actor.ID.startsWith(v))
      : k === 'image' ? vals.some((v) => v === a.image || v === a.name || v === e.Actor.ID)
      : k === 'label' ? vals.some((v) => (v.includes('=') ? a[v.slice(0, v.indexOf('='))] === v.slice(v.indexOf('=') + 1) : v in a))
      : undefined;
    if (ok === undefined) throw badRequest(`invalid filter '${k}'`);
    if (!ok) return false;
  }
  return true;
}

export function eventRoutes(b: DockerBackend): Route[] {
  return [
    {
      method: 'GET',
      path: '/events',
      doc: 'events: container create/start/stop/die/restart/kill/destroy and image pull/untag/delete done through this API, and a container\'s own end (die, with exitCode) and restart-policy boots (start); oom (a kill by the OOM killer at the container\'s memory cap); since, until, filters type/event/container/image/label',
      handler: async (ctx) => {
        const since = seconds(ctx.query.get('since'), 'since');
        const until = seconds(ctx.query.get('until'), 'until');
        const f = ctx.filters();
        for (const k of Object.keys(f)) if (!FILTERS.includes(k)) throw badRequest(`invalid filter '${k}'`); // before the stream starts
        const res = ctx.res!;
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.flushHeaders();
        const send = (e: DockerEvent) => {
          if (!matches(e, f)) return;
          const a = e.Actor.Attributes;
          // The fields older clients read (status, id, from) beside the current ones.
          res.write(`${JSON.stringify({ status: e.Action, id: e.Actor.ID, ...(a.image ? { from: a.image } : {}), ...e })}\n`);
        };
        if (since !== undefined) for (const e of b.events.since(since)) if (until === undefined || e.timeNano <= until * 1e9) send(e);
        const now = Date.now() / 1000;
        if (until !== undefined && until <= now) {
          res.end();
          return undefined;
        }
        await new Promise<void>((resolve) => {
          const off = b.events.subscribe(send);
          const finish = () => {
            off();
            if (timer) clearTimeout(timer);
            resolve();
          };
          const timer = until !== undefined ? setTimeout(finish, (until - now) * 1000) : undefined;
          res.once('close', finish);
        });
        res.end();
        return undefined;
      },
    },
  ];
}
