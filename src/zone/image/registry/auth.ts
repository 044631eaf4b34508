// Registry credentials and challenges, Docker's way:
//   - credentials from $DOCKER_CONFIG/config.json (default ~/.docker/config.json),
//     "auths": {"HOST": {"auth": base64("user:pass")}} (or username/password);
//     Docker Hub's key is "https://index.docker.io/v1/". A credential helper
//     comes first when the config names one, as docker does: credHelpers
//     {"HOST": "NAME"}, else credsStore "NAME": `docker-credential-NAME get`
//     from PATH, the server URL on its stdin, {"Username","Secret"} on its
//     stdout ("credentials not found" on a failure: anonymous). It runs as
//     the user running lxzone, with that user's config: docker's trust.
//   - a 401's WWW-Authenticate: Basic (send the credentials) or Bearer
//     realm/service/scope (ask the realm for a token, with the credentials
//     when there are any; distribution's token spec).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { LxzoneError } from '../../../errors.js';

export interface Credentials {
  username: string;
  password: string;
}

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

function hostKey(key: string): string {
  return key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '').toLowerCase();
}

/** The credentials config.json holds for `registry` (host[:port]), if any. */
export function dockerCredentials(registry: string, env: NodeJS.ProcessEnv = process.env): Credentials | undefined {
  const dir = env.DOCKER_CONFIG !== undefined && env.DOCKER_CONFIG !== '' ? env.DOCKER_CONFIG : join(env.HOME || homedir(), '.docker');
  const file = join(dir, 'config.json');
  let raw: string;
  try {
    raw = readFileSync(file, 'utf8');
  } catch {
    return undefined; // no config: anonymous, as docker
  }
  let cfg: { auths?: Record<string, { auth?: string; username?: string; password?: string }>; credsStore?: unknown; credHelpers?: Record<string, unknown> };
  try {
    cfg = JSON.parse(raw) as typeof cfg;
  } catch (e) {
    throw new LxzoneError(`${file}: not valid JSON: ${(e as Error).message}`, { code: 'EINVAL', where: file });
  }
  const want = registry === 'docker.io' ? ['index.docker.io', 'docker.io', 'registry-1.docker.io'] : [registry.toLowerCase()];
  const helperKey = Object.keys(cfg.credHelpers ?? {}).find((k) => want.includes(hostKey(k)));
  const helper = helperKey !== undefined ? cfg.credHelpers![helperKey] : cfg.credsStore;
  if (typeof helper === 'string' && helper !== '') {
    return helperCredentials(helper, registry === 'docker.io' ? 'https://index.docker.io/v1/' : registry, file, env);
  }
  for (const [key, entry] of Object.entries(cfg.auths ?? {})) {
    if (!want.includes(hostKey(key)) || typeof entry !== 'object' || entry === null) continue;
    if (typeof entry.auth === 'string' && entry.auth !== '') {
      const plain = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = plain.indexOf(':');
      if (colon < 0) throw new LxzoneError(`${file}: auths["${key}"].auth is not base64 of user:password`, { code: 'EINVAL', where: file });
      return { username: plain.slice(0, colon), password: plain.slice(colon + 1) };
    }
    if (typeof entry.username === 'string' && typeof entry.password === 'string') return { username: entry.username, password: entry.password };
  }
  return undefined;
}

/** `docker-credential-NAME get` for `server` (docker-credential-helpers' protocol). */
function helperCredentials(name: string, server: string, file: string, env: NodeJS.ProcessEnv): Credentials | undefined {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) throw new LxzoneError(`${file}: credential helper "${name}" is not a helper name`, { code: 'EINVAL', where: file });
  const bin = `docker-credential-${name}`;
  let out: string;
  try {
    out = execFileSync(bin, ['get'], { input: server, env, encoding: 'utf8', timeout: 60_000, stdio: ['pipe', 'pipe', 'pipe'], maxBuffer: 1 << 20 });
  } catch (e) {
    const err = e as { code?: string; stdout?: string; stderr?: string; status?: number | null };
    if (err.code === 'ENOENT') throw new LxzoneError(`${file} names the credential helper ${bin}, which is not in PATH`, { code: 'ENOENT', where: file });
    const said = `${err.stdout ?? ''}${err.stderr ?? ''}`.trim();
    if (/credentials not found/i.test(said)) return undefined; // none stored for this registry: anonymous, as docker
    throw new LxzoneError(`credential helper ${bin} failed for ${server} (${err.status !== undefined && err.status !== null ? `exit ${err.status}` : err.code ?? 'killed'})${said ? `: ${said.slice(0, 200)}` : ''}`, { code: 'EACCES', where: bin });
  }
  let got: { Username?: unknown; Secret?: unknown };
  try {
    got = JSON.parse(out) as typeof got;
  } catch {
    throw new LxzoneError(`credential helper ${bin} answered for ${server} with no JSON`, { code: 'EINVAL', where: bin });
  }
  if (typeof got.Username !== 'string' || typeof got.Secret !== 'string') throw new LxzoneError(`credential helper ${bin} answered for ${server} without Username and Secret`, { code: 'EINVAL', where: bin });
  return { username: got.Username, password: got.Secret };
}

export function basicHeader(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}

/** Parses `Bearer realm="…",service="…",scope="…"` (first challenge only). */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?/g;
  for (let p = re.exec(m[2] as string); p; p = re.exec(m[2] as string)) {
    params[(p[1] as string).toLowerCase()] = (p[2] ?? p[3] ?? '').replace(/\\(.)/g, '$1');
  }
  return { scheme: (m[1] as string).toLowerCase(), params };
}
