// The Docker API on TCP, with mutual TLS only: `lxzone daemon --docker-tls
// HOST:PORT --tlscacert CA --tlscert CERT --tlskey KEY`. Every client must
// present a certificate signed by CA (dockerd's --tlsverify); there is no
// plain TCP and no server-only TLS, because whoever reaches this API is root
// on the host (docs/security.md). The files are read and checked when the
// flags are parsed, so a bad one stops the daemon's start with exit code 2.
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { LxzoneError } from '../../errors.js';

export interface DockerTlsOptions {
  host: string;
  port: number;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

function readPem(flag: string, path: string | undefined): Buffer {
  if (!path) throw new LxzoneError(`--docker-tls needs ${flag} (mutual TLS only: the CA that signs clients' certificates, and the server's certificate and key)`, { exitCode: 2, code: 'EINVAL' });
  try {
    return readFileSync(path);
  } catch (e) {
    throw new LxzoneError(`${flag} ${path}: ${(e as Error).message}`, { exitCode: 2, code: 'ENOENT' });
  }
}

/** The flags as options, the files read and checked (a key that does not match its certificate is refused here). */
export function dockerTlsOptions(addr: string, f: { tlscacert?: string; tlscert?: string; tlskey?: string }): DockerTlsOptions {
  const m = /^(?:\[([0-9a-fA-F:]+)\]|([^:]+)):(\d{1,5})$/.exec(addr);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 1 && port <= 65535)) throw new LxzoneError(`--docker-tls ${addr}: must be HOST:PORT (e.g. 127.0.0.1:2376)`, { exitCode: 2, code: 'EINVAL' });
  const o = { host: m[1] ?? m[2]!, port, ca: readPem('--tlscacert', f.tlscacert), cert: readPem('--tlscert', f.tlscert), key: readPem('--tlskey', f.tlskey) };
  try {
    createSecureContext({ ca: o.ca, cert: o.cert, key: o.key });
  } catch (e) {
    throw new LxzoneError(`--docker-tls: the CA, certificate or key cannot be used: ${(e as Error).message}`, { exitCode: 2, code: 'EINVAL' });
  }
  return o;
}

/** Options of the TLS server: a client certificate signed by the CA, always. */
export function serverTlsOptions(o: DockerTlsOptions) {
  return { ca: o.ca, cert: o.cert, key: o.key, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' as const };
}
