// The portal's access control: one login token per daemon start (printed
// once on the daemon's stdout, only its SHA-256 kept: in memory and in a 0600
// file in the state directory for the operator to see when it was made),
// sessions in memory behind an HttpOnly SameSite=Strict cookie, and a CSRF
// token per session that every state-changing request (and the terminal's
// websocket) must carry, besides an Origin of this very portal. Over mutual
// TLS (tls.ts) a verified client certificate opens a session instead of the token.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';

const SESSION_MS = 12 * 3600 * 1000;
export const COOKIE = 'lxzone_portal';

interface Session {
  csrf: string;
  expiresAt: number;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest();

export class PortalAuth {
  private readonly tokenHash: Buffer;
  private readonly sessions = new Map<string, Session>();
  /** The token, for the daemon to print once; then forgotten. */
  readonly token: string;

  constructor(stateDir: string) {
    this.token = randomBytes(32).toString('base64url');
    this.tokenHash = sha256(this.token);
    const file = join(stateDir, 'portal-token.sha256');
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, `${this.tokenHash.toString('hex')}\n`, { mode: 0o600 });
    renameSync(tmp, file);
  }

  /** Whether `token` is the login token (constant time; a hash of equal length either way). */
  checkToken(token: unknown): boolean {
    if (typeof token !== 'string' || token.length === 0 || token.length > 256) return false;
    return timingSafeEqual(sha256(token), this.tokenHash);
  }

  /** A new session: [cookie value, its CSRF token]; its cookie Secure on HTTPS. */
  newSession(secure = false): { id: string; csrf: string; cookie: string } {
    this.prune();
    const id = randomBytes(32).toString('base64url');
    const csrf = randomBytes(32).toString('base64url');
    this.sessions.set(id, { csrf, expiresAt: Date.now() + SESSION_MS });
    return { id, csrf, cookie: `${COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${SESSION_MS / 1000}${secure ? '; Secure' : ''}` };
  }

  static clearCookie(): string {
    return `${COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;
  }

  /** The request's session, if its cookie names a live one. */
  session(req: IncomingMessage): (Session & { id: string }) | undefined {
    const id = cookieValue(req.headers.cookie, COOKIE);
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    if (s.expiresAt < Date.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    return { ...s, id };
  }

  end(id: string): void {
    this.sessions.delete(id);
  }

  /** The CSRF token matches the session's (constant time). */
  static csrfMatches(s: Session, given: unknown): boolean {
    if (typeof given !== 'string' || given.length !== s.csrf.length) return false;
    return timingSafeEqual(Buffer.from(given), Buffer.from(s.csrf));
  }

  private prune(): void {
    const now = Date.now();
    for (const [id, s] of this.sessions) if (s.expiresAt < now) this.sessions.delete(id);
  }
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Same-origin check for a state-changing request or a websocket: the Host
 * must be one this portal answers to (a DNS-rebound name is refused), and
 * the browser's Origin must be exactly this portal; Sec-Fetch-Site, when
 * sent, must not say cross-site. A request without Origin is refused: every
 * browser sends it on POST/PUT/PATCH/DELETE and on websockets.
 */
export function sameOrigin(req: IncomingMessage, allowedHosts: Set<string> | undefined, scheme: 'http' | 'https' = 'http'): string | undefined {
  const host = req.headers.host;
  if (!host) return 'no Host header';
  if (allowedHosts && !allowedHosts.has(host.toLowerCase())) return `Host ${JSON.stringify(host)} is not this portal`;
  const origin = req.headers.origin;
  if (!origin) return 'no Origin header';
  if (origin !== `${scheme}://${host}`) return `Origin ${JSON.stringify(origin)} is not this portal`;
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return `Sec-Fetch-Site ${site}`;
  return undefined;
}
