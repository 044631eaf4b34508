// One request as a handler sees it: its parameters, query, JSON body, and
// the way to answer (JSON, empty, or a hijacked raw stream for attach/exec).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { badRequest } from './errors.js';

/** Largest JSON body accepted (a create with a big environment is well below). */
const MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface RawStream {
  write(b: Buffer): boolean;
  end(): void;
  /** What the client sends (stdin of attach/exec), when the connection was upgraded. */
  input?: Duplex;
  closed: Promise<void>;
  isClosed(): boolean;
}

export class Ctx {
  /** The negotiated API version of this request. */
  version = '';
  params: Record<string, string | undefined> = {};
  readonly query: URLSearchParams;

  constructor(
    readonly req: IncomingMessage,
    readonly res: ServerResponse | undefined,
    /** Set when the client asked to upgrade the connection (attach, exec start). */
    readonly upgrade?: { socket: Duplex; head: Buffer },
  ) {
    this.query = new URL(req.url ?? '/', 'http://docker').searchParams;
  }

  /** Docker's boolean query values: 1/true/True (and absent = fallback). */
  flag(name: string, fallback = false): boolean {
    const v = this.query.get(name);
    if (v === null || v === '') return fallback;
    return !['0', 'false', 'False', 'FALSE'].includes(v);
  }

  int(name: string): number | undefined {
    const v = this.query.get(name);
    if (v === null || v === '') return undefined;
    const n = Number(v);
    if (!Number.isInteger(n)) throw badRequest(`invalid value for ${name}: ${JSON.stringify(v)}`);
    return n;
  }

  /** The `filters` query parameter: {"label": ["a=b"], "status": ["running"]} (older clients send maps of true). */
  filters(): Record<string, string[]> {
    const raw = this.query.get('filters');
    if (!raw) return {};
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw badRequest(`invalid filter: ${raw}`);
    }
    const out: Record<string, string[]> = {};
    for (const [k, v] of Object.entries((parsed ?? {}) as Record<string, unknown>)) {
      out[k] = Array.isArray(v) ? v.map(String) : Object.keys((v ?? {}) as object);
    }
    return out;
  }

  async body<T = Record<string, unknown>>(): Promise<T> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of this.req) {
      size += (c as Buffer).length;
      if (size > MAX_BODY_BYTES) throw badRequest('request body too large');
      chunks.push(c as Buffer);
    }
    const text = Buffer.concat(chunks).toString('utf8').trim();
    if (text === '' || text === 'null') return {} as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw badRequest('invalid JSON in request body');
    }
  }

  /**
   * The connection as a raw stream (dockerd's "hijack"): 101 UPGRADED when the
   * client asked for an upgrade, else a 200 whose body is the stream.
   */
  hijack(contentType = 'application/vnd.docker.raw-stream'): RawStream {
    if (this.upgrade) {
      const s = this.upgrade.socket;
      s.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
      const closed = new Promise<void>((r) => s.once('close', () => r()));
      let isClosed = false;
      void closed.then(() => (isClosed = true));
      s.on('error', () => undefined);
      return { write: (b) => (s.destroyed ? false : s.write(b)), end: () => s.end(), input: s, closed, isClosed: () => isClosed || s.destroyed };
    }
    const res = this.res!;
    res.writeHead(200, { 'Content-Type': contentType });
    res.flushHeaders();
    const closed = new Promise<void>((r) => res.once('close', () => r()));
    let isClosed = false;
    void closed.then(() => (isClosed = true));
    return { write: (b) => (res.destroyed ? false : res.write(b)), end: () => res.end(), closed, isClosed: () => isClosed || res.destroyed };
  }
}

/** What a handler returns: a JSON body (200), a status with a body, or nothing when it answered itself. */
export type Reply = { status: number; body?: unknown; headers?: Record<string, string> } | undefined;
export type Handler = (ctx: Ctx) => Promise<Reply | object | void> | Reply | object | void;

export const noContent = (): Reply => ({ status: 204 });
export const notModified = (): Reply => ({ status: 304 });
export const json = (body: unknown, status = 200): Reply => ({ status, body });
