// API version negotiation, as dockerd does it: the server advertises its
// newest version (Api-Version header, /_ping, /version) and its oldest
// (MinAPIVersion); a client pins a version with a /vX.Y path prefix, an
// unversioned path means the newest. A version outside the range is refused
// with a 400 whose message the docker client shows as it is.
import { DockerError } from './errors.js';

/** Current docker clients refuse a server older than 1.44; Debian 12's client speaks 1.41. */
export const API_MAX = '1.44';
export const API_MIN = '1.24';
export const ENGINE_VERSION = '0.1.0-lxzone';

/** -1, 0, 1 as a is older than, equal to or newer than b ("1.9" < "1.24"). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

const PREFIX = /^\/v(\d{1,3}\.\d{1,3})(\/.*)$/;

/** Splits "/v1.41/containers/json" into its version and path; checks the version against the range. */
export function splitVersion(path: string): { version: string; path: string } {
  const m = PREFIX.exec(path);
  if (!m) {
    if (/^\/v[^/]*\//.test(path) && !/^\/volumes\b/.test(path)) {
      // "/vX/..." that is not a version: dockerd answers such paths as unknown pages.
      throw new DockerError(404, 'page not found');
    }
    return { version: API_MAX, path };
  }
  const version = m[1]!;
  if (compareVersions(version, API_MAX) > 0) throw new DockerError(400, `client version ${version} is too new. Maximum supported API version is ${API_MAX}`);
  if (compareVersions(version, API_MIN) < 0) {
    throw new DockerError(400, `client version ${version} is too old. Minimum supported API version is ${API_MIN}, please upgrade your client to a newer version`);
  }
  return { version, path: m[2]! };
}
