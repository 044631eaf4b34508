// The web portal (`lxzone daemon --portal [ADDR:]PORT`): an HTTP server in
// the daemon, on loopback unless an address is given. Pages are static files
// bundled at build time (dist/portal: no CDN, the host may be offline); data
// comes from the JSON API (routes.ts), live updates as server-sent events
// (streams.ts), the terminal over a websocket (terminal.ts). Access: the
// login token printed once at start (auth.ts), or over mutual TLS a client
// certificate signed by the operator's CA (tls.ts), then a session cookie;
// every state-changing request carries the session's CSRF token and a
// same-origin Origin, the websocket too.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { isIP } from 'node:net';
import { extname, join } from 'node:path';
import { WebSocketServer } from 'ws';
import { LxzoneError } from '../../errors.js';
import { projectRoot } from '../../native.js';
import type { ZoneStore } from '../../zone/state/store.js';
import { PortalAuth, sameOrigin } from './auth.js';
import { HttpError, readJson, securityHeaders, sendError, sendJson, zoneName } from './http-util.js';
import { LoginLimiter } from './login-limit.js';
import { apiRoutes } from './routes.js';
import { ZoneWatch } from './streams.js';
import { serveTerminal } from './terminal.js';
import { clientCertificate, logRefusals, serverTlsOptions, type PortalTls } from './tls.js';

export interface PortalAddress {
  host: string;
  port: number;
  /** HTTPS with a client certificate required, which logs its holder in (--portal-tls*). */
  tls?: PortalTls;
}

/** "PORT", "ADDR:PORT" or "[V6]:PORT" -> address; loopback unless one is given. */
export function parsePortalAddress(s: string): PortalAddress {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[^:[\]]+):)?(\d{1,5})$/.exec(s.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new LxzoneError(`--portal ${JSON.stringify(s)}: give PORT or ADDRESS:PORT (e.g. 8470 or 127.0.0.1:8470)`, { code: 'EINVAL', exitCode: 2 });
  const host = m[1] ? m[1].replace(/^\[|\]$/g, '') : '127.0.0.1';
  if (host !== 'localhost' && !isIP(host)) throw new LxzoneError(`--portal ${JSON.stringify(s)}: ${host} is not an IP address`, { code: 'EINVAL', exitCode: 2 });
  return { host, port };
}

export interface RunningPortal {
  url: string;
  token: string;
  /** The daemon served a request that may have changed a zone: open pages get the list again. */
  changed(): void;
  close(): Promise<void>;
}

export interface PortalOptions {
  /**
   * Served beside a daemon that runs in another process (one the CLI started on
   * demand, or a service): the API calls reach it through its socket and may
   * start one again if it went away. In the daemon itself they never start one.
   */
  standalone?: boolean;
}

const STATIC: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.png': 'image/png' };

function staticFiles(): Map<string, { type: string; body: Buffer }> {
  const dir = join(projectRoot, 'dist', 'portal');
  const files = new Map<string, { type: string; body: Buffer }>();
  for (const f of ['index.html', 'app.js', 'app.css']) {
    try {
      files.set(`/${f}`, { type: STATIC[extname(f)]!, body: readFileSync(join(dir, f)) });
    } catch {
      throw new LxzoneError(`the portal's pages are not built (${join(dir, f)} is missing): run \`npm ci\` or \`npm run build\``, { code: 'ENOENT' });
    }
  }
  return files;
}

export async function startPortal(addr: PortalAddress, store: ZoneStore, log: (l: string) => void, po: PortalOptions = {}): Promise<RunningPortal> {
  const files = staticFiles();
  const auth = new PortalAuth(store.stateDir);
  const logins = new LoginLimiter();
  const o = { store, start: po.standalone === true };
  const routes = apiRoutes(o);
  const watch = new ZoneWatch(o, log);
  let allowedHosts: Set<string> | undefined;
  const scheme = addr.tls ? 'https' : 'http';

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    securityHeaders(res);
    const url = new URL(req.url ?? '/', 'http://portal');
    const method = req.method ?? 'GET';
    const changes = method !== 'GET' && method !== 'HEAD';
    if (changes) {
      const why = sameOrigin(req, allowedHosts, scheme);
      if (why) throw new HttpError(403, `refused: not a same-origin request (${why})`);
    }
    if (method === 'GET' && (url.pathname === '/' || files.has(url.pathname))) {
      const f = files.get(url.pathname === '/' ? '/index.html' : url.pathname)!;
      res.writeHead(200, { 'Content-Type': f.type, 'Cache-Control': 'no-cache' });
      res.end(f.body);
      return;
    }
    if (url.pathname === '/api/login' && method === 'POST') {
      const from = req.socket.remoteAddress ?? 'unknown';
      const wait = logins.retryAfter(from);
      if (wait > 0) {
        res.setHeader('Retry-After', String(wait));
        throw new HttpError(429, `too many wrong tokens from ${from}: try again in ${wait} s`);
      }
      const body = await readJson(req);
      if (!auth.checkToken(body.token)) {
        logins.failed(from);
        log(`portal: a login with a wrong token from ${from}`);
        throw new HttpError(401, 'wrong token');
      }
      logins.succeeded(from);
      const s = auth.newSession(scheme === 'https');
      res.setHeader('Set-Cookie', s.cookie);
      return sendJson(res, 200, { csrf: s.csrf });
    }
    const session = auth.session(req);
    // A verified client certificate (mutual TLS only) logs in as the token does: the page asks here first.
    const holder = session ? undefined : clientCertificate(req);
    if (holder !== undefined && url.pathname === '/api/session' && method === 'GET') {
      const s = auth.newSession(true);
      log(`portal: a session for the client certificate of ${holder} from ${req.socket.remoteAddress ?? 'unknown'}`);
      res.setHeader('Set-Cookie', s.cookie);
      return sendJson(res, 200, { csrf: s.csrf });
    }
    if (!session) throw new HttpError(401, 'log in first');
    if (changes && !PortalAuth.csrfMatches(session, req.headers['x-csrf-token'])) throw new HttpError(403, 'refused: missing or wrong CSRF token');
    if (url.pathname === '/api/session' && method === 'GET') return sendJson(res, 200, { csrf: session.csrf });
    if (url.pathname === '/api/logout' && method === 'POST') {
      auth.end(session.id);
      res.setHeader('Set-Cookie', PortalAuth.clearCookie());
      return sendJson(res, 200, { loggedOut: true });
    }
    if (url.pathname === '/api/events' && method === 'GET') return watch.add(req, res);
    for (const r of routes) {
      if (r.method !== method) continue;
      const m = r.path.exec(url.pathname);
      if (m) return r.handle(req, res, m.slice(1), url);
    }
    throw new HttpError(404, `no such page: ${method} ${url.pathname}`);
  };

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((e: unknown) => sendError(res, e));
  };
  const server = addr.tls ? createHttpsServer(serverTlsOptions(addr.tls), listener) : createServer(listener);
  // A client the handshake refused (no certificate, another CA's, not TLS at all) gets no answer; the operator sees why.
  if (addr.tls) logRefusals(server as HttpsServer, log);

  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refuse = (status: number, why: string) => {
      socket.end(`HTTP/1.1 ${status} ${why}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    const url = new URL(req.url ?? '/', 'http://portal');
    const m = /^\/api\/zones\/([^/]+)\/terminal$/.exec(url.pathname);
    if (!m) return refuse(404, 'Not Found');
    const why = sameOrigin(req, allowedHosts, scheme);
    if (why) {
      log(`portal: terminal refused: ${why}`);
      return refuse(403, 'Forbidden');
    }
    const session = auth.session(req);
    if (!session) return refuse(401, 'Unauthorized');
    if (!PortalAuth.csrfMatches(session, url.searchParams.get('csrf'))) return refuse(403, 'Forbidden');
    let name: string;
    try {
      name = zoneName(m[1]!);
    } catch {
      return refuse(400, 'Bad Request');
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const size = { cols: Number(url.searchParams.get('cols')), rows: Number(url.searchParams.get('rows')) };
      serveTerminal(ws, name, size, o, log).catch((e: unknown) => {
        log(`portal: terminal into ${name}: ${(e as Error).message}`);
        ws.close(1011);
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new LxzoneError(`--portal ${addr.host}:${addr.port}: ${e.code === 'EADDRINUSE' ? 'the port is in use' : e.message}`, { code: e.code })),
    );
    server.listen(addr.port, addr.host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  const hostPart = addr.host.includes(':') ? `[${addr.host}]` : addr.host;
  // A wildcard address answers to names we cannot know; a specific one only to itself (no DNS rebinding).
  const wildcard = addr.host === '0.0.0.0' || addr.host === '::';
  if (!wildcard) {
    allowedHosts = new Set([`${hostPart}:${port}`]);
    if (addr.host === '127.0.0.1' || addr.host === '::1' || addr.host === 'localhost') {
      for (const h of ['127.0.0.1', 'localhost', '[::1]']) allowedHosts.add(`${h}:${port}`);
    }
  }
  return {
    url: `${scheme}://${hostPart}:${port}/`,
    token: auth.token,
    changed: () => watch.changed(),
    close: async () => {
      watch.close();
      for (const c of wss.clients) c.terminate();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
