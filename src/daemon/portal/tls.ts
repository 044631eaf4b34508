// The portal over mutual TLS: `lxzone daemon --portal ADDR:PORT
// --portal-tlscacert CA --portal-tlscert CERT --portal-tlskey KEY`. Every
// client must present a certificate signed by CA (the handshake refuses one
// without); such a client is logged in by its certificate, no token asked. No
// server-only TLS: a certificate is the other way in the issue names beside
// the token, not an option for the token's transport. The files are read and
// checked when the flags are parsed (a bad one: exit code 2, nothing started).
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { Server } from 'node:https';
import type { Socket } from 'node:net';
import { createSecureContext, type TLSSocket } from 'node:tls';
import { LxzoneError } from '../../errors.js';

export interface PortalTls {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

export const PORTAL_TLS_FLAGS = ['--portal-tlscacert', '--portal-tlscert', '--portal-tlskey'] as const;

function readPem(flag: string, path: string | undefined): Buffer {
  if (!path) throw new LxzoneError(`the portal's mutual TLS needs ${PORTAL_TLS_FLAGS.join(', ')} (${flag} missing)`, { exitCode: 2, code: 'EINVAL' });
  try {
    return readFileSync(path);
  } catch (e) {
    throw new LxzoneError(`${flag} ${path}: ${(e as Error).message}`, { exitCode: 2, code: 'ENOENT' });
  }
}

/** The flags as options (none given: plain HTTP and the token), the files read and checked. */
export function portalTlsOptions(f: { portalTlscacert?: string; portalTlscert?: string; portalTlskey?: string }): PortalTls | undefined {
  if (!f.portalTlscacert && !f.portalTlscert && !f.portalTlskey) return undefined;
  const o = { ca: readPem('--portal-tlscacert', f.portalTlscacert), cert: readPem('--portal-tlscert', f.portalTlscert), key: readPem('--portal-tlskey', f.portalTlskey) };
  try {
    createSecureContext(o);
  } catch (e) {
    throw new LxzoneError(`the portal's CA, certificate or key cannot be used: ${(e as Error).message}`, { exitCode: 2, code: 'EINVAL' });
  }
  return o;
}

/** Options of the HTTPS server: a client certificate signed by the CA, always. */
export function serverTlsOptions(o: PortalTls) {
  return { ca: o.ca, cert: o.cert, key: o.key, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' as const };
}

/** The verified client certificate's subject (CN), or undefined on plain HTTP. */
export function clientCertificate(req: IncomingMessage): string | undefined {
  const s = req.socket as Partial<TLSSocket>;
  if (!s.encrypted || s.authorized !== true) return undefined;
  const cert = s.getPeerCertificate?.();
  const cn = cert?.subject?.CN;
  return (Array.isArray(cn) ? cn.join(',') : cn) || cert?.fingerprint256 || 'a client certificate';
}

/**
 * Why the handshake refused a client, in OpenSSL's words: a certificate that
 * does not verify (UNABLE_TO_VERIFY_LEAF_SIGNATURE: another CA's), none
 * given (ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE), not TLS at all.
 */
export function refusedWhy(e: Error & { code?: string }, s: Pick<TLSSocket, 'authorizationError'>): string {
  const verify = s.authorizationError;
  if (verify) return `its certificate: ${typeof verify === 'string' ? verify : verify.message}`;
  return e.code ?? e.message.split('\n')[0] ?? 'handshake failed';
}

/**
 * Logs each client the handshake refused, with its address and why. A
 * certificate that does not verify is refused once the handshake is over,
 * the TLS socket already closed and its address gone: the address is kept
 * from the TCP connection under it (Node's _parent of the TLS socket).
 */
export function logRefusals(server: Server, log: (l: string) => void): void {
  const peers = new WeakMap<object, string>();
  server.on('connection', (raw: Socket) => {
    if (raw.remoteAddress) peers.set(raw, raw.remoteAddress);
  });
  server.on('tlsClientError', (e: Error & { code?: string }, s: TLSSocket) => {
    const raw = (s as TLSSocket & { _parent?: object })._parent;
    log(`portal: TLS refused ${s.remoteAddress ?? (raw && peers.get(raw)) ?? 'a client'}: ${refusedWhy(e, s)}`);
  });
}
