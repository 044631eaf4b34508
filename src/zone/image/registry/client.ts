// A client of one repository of a registry speaking the OCI distribution API
// (Docker Registry v2), on Node's fetch. What the registry sends is
// untrusted: bodies are read with a byte cap, every document is checked
// against the digest asked for (or that the registry names), and errors name
// the registry, the repository and what was asked.
import { LxzoneError } from '../../../errors.js';
import type { ImageRef } from '../store/reference.js';
import { basicHeader, dockerCredentials, parseChallenge, type Credentials } from './auth.js';

const LOOPBACK = /^(localhost|127(?:\.[0-9]{1,3}){3}|\[::1\])(:[0-9]+)?$/;

/** https, except loopback registries and those in LXZONE_INSECURE_REGISTRIES (comma-separated host[:port]). */
export function registryBase(registry: string, env: NodeJS.ProcessEnv = process.env): string {
  const host = registry === 'docker.io' ? 'registry-1.docker.io' : registry;
  const insecure = (env.LXZONE_INSECURE_REGISTRIES ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const http = LOOPBACK.test(registry) || insecure.includes(registry);
  return `${http ? 'http' : 'https'}://${host}`;
}

export class RegistryError extends LxzoneError {}

/** How a request on a connection closed under it fails (undici's codes, and the socket's). */
const STALE_CONNECTION = new Set(['UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ECONNRESET', 'EPIPE']);
/** A request is sent at most this many times when its connection was closed under it. */
const REQUEST_ATTEMPTS = 3;

export interface GetOptions {
  accept?: string[];
  /** Resume from this byte (Range). */
  from?: number;
}

export class RepositoryClient {
  private token?: string;
  private basic?: string;
  private readonly creds: Credentials | undefined;
  readonly base: string;
  readonly name: string;

  constructor(
    readonly ref: ImageRef,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.base = registryBase(ref.registry, env);
    this.creds = dockerCredentials(ref.registry, env);
    this.name = `${ref.registry}/${ref.repository}`;
  }

  fail(what: string, msg: string, code = 'EIO'): RegistryError {
    return new RegistryError(`${this.name}: ${what}: ${msg}`, { code, where: this.name });
  }

  private headers(opts: GetOptions): Record<string, string> {
    const h: Record<string, string> = { 'user-agent': 'lxzone' };
    if (opts.accept) h.accept = opts.accept.join(', ');
    if (opts.from !== undefined && opts.from > 0) h.range = `bytes=${opts.from}-`;
    if (this.token !== undefined) h.authorization = `Bearer ${this.token}`;
    else if (this.basic !== undefined) h.authorization = this.basic;
    return h;
  }

  private async request(url: string, opts: GetOptions, what: string): Promise<Response> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fetch(url, { headers: this.headers(opts), redirect: 'follow' });
      } catch (e) {
        const cause = (e as { cause?: { code?: string; message?: string } }).cause;
        // A kept-alive connection the registry closed while it was idle fails the
        // request sent on it before any answer: a GET, so sent again (a fresh
        // connection), as docker's client does. A registry that is not there is
        // ECONNREFUSED, said at once.
        if (attempt < REQUEST_ATTEMPTS && STALE_CONNECTION.has(cause?.code ?? '')) continue;
        throw this.fail(what, `cannot reach ${this.base} (${cause?.code ?? cause?.message ?? (e as Error).message})`, cause?.code ?? 'ECONNREFUSED');
      }
    }
  }

  /** GET `path` (under /v2/<repo>/), answering one auth challenge. */
  async get(path: string, opts: GetOptions, what: string): Promise<Response> {
    const url = `${this.base}/v2/${this.ref.repository}/${path}`;
    let res = await this.request(url, opts, what);
    if (res.status === 401) {
      await res.body?.cancel();
      await this.authenticate(res.headers.get('www-authenticate'), what);
      res = await this.request(url, opts, what);
    }
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      throw this.fail(what, `access denied (HTTP ${res.status})${this.creds ? '' : '; no credentials for this registry in ~/.docker/config.json'}`, 'EACCES');
    }
    if (res.status === 404) {
      await res.body?.cancel();
      throw this.fail(what, 'not found (HTTP 404)', 'ENOENT');
    }
    if (res.status !== 200 && res.status !== 206) {
      const text = (await readCapped(res, 4096, this, what).catch(() => Buffer.alloc(0))).toString('utf8').slice(0, 200);
      throw this.fail(what, `HTTP ${res.status}${text ? `: ${text}` : ''}`);
    }
    return res;
  }

  private async authenticate(header: string | null, what: string): Promise<void> {
    const ch = parseChallenge(header);
    if (ch?.scheme === 'basic') {
      if (!this.creds) throw this.fail(what, 'the registry asks for credentials and ~/.docker/config.json has none for it', 'EACCES');
      this.basic = basicHeader(this.creds);
      return;
    }
    if (ch?.scheme !== 'bearer' || !ch.params.realm) throw this.fail(what, `HTTP 401 with no usable challenge (${header ?? 'none'})`, 'EACCES');
    let realm: URL;
    try {
      realm = new URL(ch.params.realm);
    } catch {
      throw this.fail(what, `token realm "${ch.params.realm}" is not a URL`, 'EINVAL');
    }
    if (realm.protocol !== 'https:' && realm.protocol !== 'http:') throw this.fail(what, `token realm "${ch.params.realm}" is not http(s)`, 'EINVAL');
    if (ch.params.service) realm.searchParams.set('service', ch.params.service);
    realm.searchParams.set('scope', ch.params.scope ?? `repository:${this.ref.repository}:pull`);
    // Credentials go to the realm over https, or to the registry's own host:
    // a registry must not be able to send them to a third party in clear.
    const sameHost = realm.hostname === new URL(this.base).hostname;
    const headers: Record<string, string> = { 'user-agent': 'lxzone' };
    if (this.creds && (realm.protocol === 'https:' || sameHost)) headers.authorization = basicHeader(this.creds);
    let res: Response | undefined;
    for (let attempt = 1; !res; attempt++) {
      try {
        res = await fetch(realm, { headers });
      } catch (e) {
        const cause = (e as { cause?: { code?: string } }).cause;
        if (attempt < REQUEST_ATTEMPTS && STALE_CONNECTION.has(cause?.code ?? '')) continue; // as in request()
        throw this.fail(what, `cannot reach the token service ${realm.origin} (${(e as Error).message})`, 'ECONNREFUSED');
      }
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      throw this.fail(what, `the token service ${realm.origin} refused (HTTP ${res.status})${this.creds ? '' : '; no credentials for this registry in ~/.docker/config.json'}`, 'EACCES');
    }
    const body = await readCapped(res, 1 << 20, this, 'token');
    let tok: { token?: unknown; access_token?: unknown };
    try {
      tok = JSON.parse(body.toString('utf8')) as typeof tok;
    } catch {
      throw this.fail(what, 'the token service answered with no JSON', 'EINVAL');
    }
    const t = typeof tok.token === 'string' ? tok.token : typeof tok.access_token === 'string' ? tok.access_token : undefined;
    if (!t) throw this.fail(what, 'the token service answered with no token', 'EINVAL');
    this.token = t;
  }
}

/** The whole body, refused past `max` bytes (Content-Length or counted). */
export async function readCapped(res: Response, max: number, c: RepositoryClient, what: string): Promise<Buffer> {
  const len = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(len) && len > max) {
    await res.body?.cancel();
    throw c.fail(what, `${len} bytes, more than the ${max} allowed`, 'EFBIG');
  }
  const parts: Buffer[] = [];
  let n = 0;
  if (!res.body) return Buffer.alloc(0);
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    n += chunk.length;
    if (n > max) {
      await res.body.cancel().catch(() => undefined); // already failing: the cancel's own error adds nothing
      throw c.fail(what, `more than the ${max} bytes allowed`, 'EFBIG');
    }
    parts.push(Buffer.from(chunk));
  }
  return Buffer.concat(parts);
}
