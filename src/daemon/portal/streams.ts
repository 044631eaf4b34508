// The portal's streams, as server-sent events: a zone's logs (followed
// through the same zoneLogs the CLI's `lxzone logs -f` uses) and the zone
// list, which is compared every second against the last one sent, so a
// change made by the CLI in another process shows without a reload.
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as api from '../../zone/lifecycle/api.js';
import type { ZoneInfo } from '../../zone/lifecycle/types.js';
import { HttpError } from './http-util.js';

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

/** What a list change is: everything but the ever-moving figures (uptime, memory in use). */
const signature = (zones: ZoneInfo[]) => JSON.stringify(zones.map(({ uptimeSeconds: _u, memory: _m, ...z }) => z));

/** The zone list for every open page, polled once a second while one is open. */
export class ZoneWatch {
  private readonly clients = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | undefined;
  private last: string | undefined;
  private lastZones: ZoneInfo[] = [];

  constructor(
    private readonly o: api.ApiOptions,
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
    this.timer ??= setInterval(() => void this.poll(), 1000);
    void this.poll();
  }

  private polling = false;
  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const zones = await api.listZones(this.o);
      const sig = signature(zones);
      if (sig !== this.last) {
        this.last = sig;
        this.lastZones = zones;
        for (const c of this.clients) sse(c, 'zones', zones);
      }
    } catch (e) {
      this.log(`portal: zone list: ${(e as Error).message}`);
    } finally {
      this.polling = false;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.last = undefined;
  }

  close(): void {
    this.stop();
    for (const c of this.clients) c.end();
    this.clients.clear();
  }
}
