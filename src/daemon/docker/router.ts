// The Docker Engine API's routes: one table (method, path, handler, what it
// does and how it differs from dockerd) feeds the router (find-my-way) and
// docs/docker-api.md. Every answer carries dockerd's identifying headers;
// every error is {"message": ...} with Docker's status.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import FindMyWay, { type HTTPMethod } from 'find-my-way';
import { Ctx, type Handler, type Reply } from './context.js';
import { DockerError, toDockerError } from './errors.js';
import { API_MAX, ENGINE_VERSION, splitVersion } from './version.js';

export interface Route {
  method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  handler: Handler;
  /** One line for docs/docker-api.md: what it does here, and any difference from dockerd. */
  doc: string;
}

export function commonHeaders(): Record<string, string> {
  return { 'Api-Version': API_MAX, 'Docker-Experimental': 'false', Ostype: 'linux', Server: `lxzone/${ENGINE_VERSION} (linux)` };
}

function sendError(res: ServerResponse, e: DockerError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ message: e.message });
  res.writeHead(e.status, { ...commonHeaders(), 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function sendReply(ctx: Ctx, res: ServerResponse, out: Reply | object | void): void {
  if (res.headersSent || res.writableEnded) return; // the handler answered itself (a stream)
  const r: Reply = out !== undefined && out !== null && 'status' in out && typeof (out as { status: unknown }).status === 'number' ? (out as Reply) : { status: 200, body: out };
  const headers = { ...commonHeaders(), ...(r!.headers ?? {}) };
  if (r!.body === undefined || r!.status === 204 || r!.status === 304 || ctx.req.method === 'HEAD') {
    res.writeHead(r!.status, headers);
    res.end();
    return;
  }
  const text = typeof r!.body === 'string' ? r!.body : `${JSON.stringify(r!.body)}\n`;
  res.writeHead(r!.status, { 'Content-Type': typeof r!.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export class DockerRouter {
  private readonly fmw = FindMyWay({ ignoreTrailingSlash: true, caseSensitive: true });

  constructor(
    readonly routes: Route[],
    private readonly log: (line: string) => void,
  ) {
    for (const r of routes) this.fmw.on(r.method as HTTPMethod, r.path, () => undefined, { handler: r.handler });
  }

  private resolve(ctx: Ctx): Handler {
    const url = new URL(ctx.req.url ?? '/', 'http://docker');
    const { version, path } = splitVersion(url.pathname);
    ctx.version = version;
    const found = this.fmw.find(ctx.req.method as HTTPMethod, path);
    if (!found) throw new DockerError(404, 'page not found');
    ctx.params = found.params;
    return (found.store as { handler: Handler }).handler;
  }

  /** A plain request. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const ctx = new Ctx(req, res);
    try {
      const handler = this.resolve(ctx);
      sendReply(ctx, res, await handler(ctx));
    } catch (e) {
      const d = toDockerError(e);
      if (d.status >= 500) this.log(`docker api: ${req.method} ${req.url}: ${(e as Error)?.stack ?? String(e)}`);
      sendError(res, d);
    }
  }

  /** A request asking to upgrade the connection (attach, exec start): the handler takes the socket. */
  async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const ctx = new Ctx(req, undefined, { socket, head });
    socket.on('error', () => undefined);
    try {
      const handler = this.resolve(ctx);
      const out = await handler(ctx);
      if (out !== undefined) {
        // An endpoint that does not stream: answer plainly and close.
        const r = out as Reply;
        const body = r?.body === undefined ? '' : JSON.stringify(r.body);
        socket.end(`HTTP/1.1 ${r?.status ?? 200} OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      }
    } catch (e) {
      const d = toDockerError(e);
      if (d.status >= 500) this.log(`docker api: ${req.method} ${req.url}: ${(e as Error)?.stack ?? String(e)}`);
      const body = JSON.stringify({ message: d.message });
      if (!socket.destroyed) {
        socket.end(`HTTP/1.1 ${d.status} Error\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nApi-Version: ${API_MAX}\r\nConnection: close\r\n\r\n${body}`);
      }
    }
  }
}
