// Registry credentials and challenges, Docker's way:
//   - credentials from $DOCKER_CONFIG/config.json (default ~/.docker/config.json),
//     "auths": {"HOST": {"auth": base64("user:pass")}} (or username/password);
//     Docker Hub's key is "https://index.docker.io/v1/". Credential helpers
//     (credsStore, credHelpers) are not run: lxzone runs no helper binaries.
//   - a 401's WWW-Authenticate: Basic (send the credentials) or Bearer
//     realm/service/scope (ask the realm for a token, with the credentials
//     when there are any; distribution's token spec).
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
  let cfg: { auths?: Record<string, { auth?: string; username?: string; password?: string }> };
  try {
    cfg = JSON.parse(raw) as typeof cfg;
  } catch (e) {
    throw new LxzoneError(`${file}: not valid JSON: ${(e as Error).message}`, { code: 'EINVAL', where: file });
  }
  const want = registry === 'docker.io' ? ['index.docker.io', 'docker.io', 'registry-1.docker.io'] : [registry.toLowerCase()];
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
