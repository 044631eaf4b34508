// The portal's streams, as server-sent events: a zone's logs (followed
// through the same zoneLogs the CLI's `lxzone logs -f` uses) and the zone
// list, sent again whenever the store's directories or the daemon's own
// requests say a zone changed (store-watch.ts), so a change made by the CLI
// in another process shows without a reload and without polling.
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as api from '../../zone/lifecycle/api.js';
import type { ZoneInfo } from '../../zone/lifecycle/types.js';
import type { ZoneStore } from '../../zone/state/store.js';
import { HttpError } from './http-util.js';
import { StoreWatch } from './store-watch.js';

function sseHeaders(res: ServerResponse): void {
  res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
  res.write(': lxzone portal\n\n');
}

const sse = (res: ServerResponse, event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);

/** GET /api/zones/NAME/logs?tail=N[&follow=1|&download=1] */
export async function streamLogs(req: IncomingMessage, res: ServerResponse, name: string, url: URL, o: api.ApiOptions): Promise<void> {
  const tailParam = url.searchParams.get('tail');
  const tail = tailParam === null ? undefined : Number(tailParam);
  if (tail !== undefined && (!Number.isSafeInteger(tail) || tail < 0)) throw new HttpError(400, 'tail must be a number of lines');
  const follow = url.searchParams.get('follow') === '1';
  const ac = new AbortController();
  req.on('close', () => ac.abort());
  if (!follow) {
    const chunks: Buffer[] = [];
    await api.zoneLogs(name, { stdout: (b) => chunks.push(b), stderr: (b) => chunks.push(b) }, { ...o, tail, signal: ac.signal });
    const headers: Record<string, string> = { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' };
    if (url.searchParams.get('download') === '1') headers['Content-Disposition'] = `attachment; filename="${name}.log"`;
    res.writeHead(200, headers);
    res.end(Buffer.concat(chunks));
    return;
  }
  // A zone that does not exist is an error before the stream starts.
  await api.inspectZone(name, o);
  sseHeaders(res);
  const send = (stream: string) => (b: Buffer) => sse(res, 'log', { stream, text: b.toString('utf8') });
  try {
    await api.zoneLogs(name, { stdout: send('stdout'), stderr: send('stderr') }, { ...o, tail: tail ?? 200, follow: true, signal: ac.signal });
    sse(res, 'end', { reason: 'the zone stopped' });
  } catch (e) {
    sse(res, 'end', { reason: (e as Error).message });
  }
  res.end();
}

/** What a list change is: everything but the ever-moving figures (uptime, memory in use; a new memory cap is a change). */
const signature = (zones: ZoneInfo[]) => JSON.stringify(zones.map(({ uptimeSeconds: _u, memory, ...z }) => ({ ...z, memoryMax: memory?.max })));

/**
 * A resync now and then, for what no file and no request of ours shows (a zone
 * whose processes died while no daemon watched it). Not what makes the page
 * live: the store's events and the daemon's requests push each change at once.
 */
const RESYNC_MS = 120_000;
/** A list that failed (the daemon busy or restarting) is asked again after this. */
const RETRY_MS = 2_000;

/** The zone list for every open page, sent again when the store or the daemon says it changed. */
export class ZoneWatch {
  private readonly clients = new Set<ServerResponse>();
  private store: StoreWatch | undefined;
  private resync: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private last: string | undefined;
  private lastZones: ZoneInfo[] = [];

  constructor(
    private readonly o: api.ApiOptions & { store: ZoneStore },
    private readonly log: (l: string) => void,
  ) {}

  add(req: IncomingMessage, res: ServerResponse): void {
    sseHeaders(res);
    this.clients.add(res);
    if (this.last !== undefined) sse(res, 'zones', this.lastZones);
    req.on('close', () => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.stop();
    });
    // Watched only while a page is open.
    this.store ??= new StoreWatch(this.o.store.stateDir, this.o.store.runtimeDir, () => void this.poll());
    this.resync ??= setInterval(() => void this.poll(), RESYNC_MS);
    void this.poll();
  }

  /** The daemon served a request that may have changed a zone (boot, halt, update, ...). */
  changed(): void {
    this.store?.fire();
  }

  private polling = false;
  private again = false;
  private async poll(): Promise<void> {
    // A change during a list is listed again after it: the one in flight may predate it.
    if (this.polling) {
      this.again = true;
      return;
    }
    this.polling = true;
    try {
      do {
        this.again = false;
        const zones = await api.listZones(this.o);
        const sig = signature(zones);
        if (sig !== this.last) {
          this.last = sig;
          this.lastZones = zones;
          for (const c of this.clients) sse(c, 'zones', zones);
        }
      } while (this.again && this.clients.size > 0);
    } catch (e) {
      this.log(`portal: zone list: ${(e as Error).message}`);
      // The change that asked for this list must not wait for the next resync: listed again soon.
      if (this.clients.size > 0) this.retry ??= setTimeout(() => {
        this.retry = undefined;
        void this.poll();
      }, RETRY_MS).unref();
    } finally {
      this.polling = false;
    }
  }

  stop(): void {
    if (this.resync) clearInterval(this.resync);
    this.resync = undefined;
    if (this.retry) clearTimeout(this.retry);
    this.retry = undefined;
    this.store?.close();
    this.store = undefined;
    this.last = undefined;
  }

  close(): void {
    this.stop();
    for (const c of this.clients) c.end();
    this.clients.clear();
  }
}
