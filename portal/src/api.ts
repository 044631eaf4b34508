// The portal's JSON API from the browser: same-origin fetches with the
// session cookie, the CSRF token on every state-changing request.
import type { ZoneInfo } from './types.js';

let csrf = '';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const csrfToken = () => csrf;

export async function api<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (method !== 'GET') headers['X-CSRF-Token'] = csrf;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const r = await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let data: unknown = text;
  try {
    data = JSON.parse(text);
  } catch {
    // plain text (logs)
  }
  if (!r.ok) throw new ApiError(r.status, (data as { error?: string })?.error ?? `${r.status} ${r.statusText}`);
  return data as T;
}

/** How often resume() asks before it shows the login form. */
const RESUME_ATTEMPTS = 5;

/**
 * Whether a session exists (its CSRF token taken); over mutual TLS this
 * request opens one for the client certificate. Only a 401 means no session:
 * a failure of the network or a proxy in between is asked again (a
 * certificate's holder would otherwise get a login form they cannot use).
 */
export async function resume(): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      csrf = (await api<{ csrf: string }>('GET', '/api/session')).csrf;
      return true;
    } catch (e) {
      if ((e instanceof ApiError && e.status === 401) || attempt >= RESUME_ATTEMPTS) return false;
      await new Promise((r) => setTimeout(r, 1000 * attempt));
    }
  }
}

export async function login(token: string): Promise<void> {
  csrf = (await api<{ csrf: string }>('POST', '/api/login', { token })).csrf;
}

export async function logout(): Promise<void> {
  await api('POST', '/api/logout');
  csrf = '';
}

/**
 * The zone list as the daemon pushes it (server-sent events: on connecting,
 * then on every change, the CLI's included). Returns what stops it.
 */
export function watchZones(onZones: (zones: ZoneInfo[]) => void, onError?: () => void): () => void {
  const source = new EventSource('/api/events');
  source.addEventListener('zones', (e) => onZones(JSON.parse((e as MessageEvent<string>).data) as ZoneInfo[]));
  if (onError) source.addEventListener('error', onError);
  return () => source.close();
}
