// The portal over mutual TLS (`lxzone daemon --portal ADDR:PORT
// --portal-tlscacert CA --portal-tlscert CERT --portal-tlskey KEY`), with a
// CA and certificates made by Debian's openssl: in Debian's chromium
// (playwright-core) a client certificate the CA signed logs in without the
// token and acts (boot, through the CSRF and same-origin checks over https);
// from a real TLS client (node:https) without a certificate, with one of
// another CA (even with a valid session's cookie), or over plain HTTP nothing
// is served, and the portal's log says why the handshake refused each;
// incomplete or bad flags are exit code 2, nothing started.
//
// It failed 1 run of 4 at load ~30 with the first page's heading not shown
// in 60 s; run again here, it failed with page.goto: net::ERR_NETWORK_CHANGED.
// Chromium fails the requests it is connecting when a host address comes or
// goes (other test files' veths and bridges), and every request through
// playwright's client-certificate proxy was exposed (25 of 36 page loads
// under a loop of veth changes). Chromium now runs without that tracker
// (test/support/portal.ts, fixtures/portal/no-netlink.c: 0 of 50 failed);
// the page asks for its session again after a failure that is not a 401
// (it showed the login form at once before); every wait is WAIT_MS; a
// refusal is told from a timeout by its error and by the daemon's log.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { useLifecycleEnv } from './support/lifecycle-env.js';
import { cliOk, eventually, row, TEST_MS, usePortal, WAIT_MS } from './support/portal.js';

const env = useLifecycleEnv(99);
const ok = cliOk(env);
const certs = join(env.base, 'certs');
const pem = (f: string) => join(certs, f);
const portal = usePortal(env);

const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: certs, stdio: 'pipe' });
/** P-256 keys: as good here as RSA's and made at once on a loaded host. */
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A CA, a server certificate for 127.0.0.1 and a client certificate it signs; a client certificate of another CA. */
function makeCerts(): void {
  mkdirSync(certs, { recursive: true });
  for (const ca of ['ca', 'rogue-ca']) openssl(['req', '-x509', ...NEW_KEY, '-days', '2', '-subj', `/CN=${ca}`, '-keyout', `${ca}-key.pem`, '-out', `${ca}.pem`]);
  writeFileSync(pem('server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  writeFileSync(pem('client.ext'), 'extendedKeyUsage=clientAuth\n');
  const issue = (name: string, ca: string, ext: string) => {
    openssl(['req', ...NEW_KEY, '-subj', `/CN=${name}`, '-keyout', `${name}-key.pem`, '-out', `${name}.csr`]);
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}-key.pem`, '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', `${name}.pem`]);
  };
  issue('server', 'ca', 'server.ext');
  issue('operator', 'ca', 'client.ext');
  issue('rogue', 'rogue-ca', 'client.ext');
}

type Answer = { status?: number; error?: string; setCookie?: string[] };

/** A GET from a TLS client outside any browser: its status, or the TLS/connection error's code (never a timeout: that throws). */
function get(url: string, client?: 'operator' | 'rogue', cookie?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { ca: readFileSync(pem('ca.pem')), ...(client ? { cert: readFileSync(pem(`${client}.pem`)), key: readFileSync(pem(`${client}-key.pem`)) } : {}), headers: cookie ? { cookie } : {}, timeout: WAIT_MS },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode, setCookie: res.headers['set-cookie'] }));
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => (e.message === 'no answer in time' ? reject(e) : resolve({ error: e.code ?? e.message })));
    req.on('timeout', () => req.destroy(new Error('no answer in time')));
    req.end();
  });
}

/** How a client the handshake refused sees it: an alert (no certificate) or the connection closed (a certificate that does not verify). */
const REFUSED = /^(ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED|ERR_SSL_.*ALERT.*|ECONNRESET|EPIPE)$/;

beforeAll(() => makeCerts());

describe('lxzone daemon --portal with --portal-tls*', () => {
  it('logs in a client certificate the CA signed, without the token, and refuses every other client', async () => {
    await ok(['create', 'certzone', '--', '/bin/sleep', '600']);
    await portal.start(['--portal-tlscacert', pem('ca.pem'), '--portal-tlscert', pem('server.pem'), '--portal-tlskey', pem('server-key.pem')]);
    const url = portal.url;
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/);

    // The browser with the operator's certificate: no login form, the zones at once; an action goes through.
    const context = await portal.newContext({
      ignoreHTTPSErrors: true,
      clientCertificates: [{ origin: url.replace(/\/$/, ''), certPath: pem('operator.pem'), keyPath: pem('operator-key.pem') }],
    });
    const page = await context.newPage();
    await page.goto(url);
    await page.getByRole('heading', { name: 'Zones' }).waitFor();
    expect(await page.getByLabel('Login token').count()).toBe(0);
    expect(portal.log).toMatch(/portal: a session for the client certificate of operator from /);
    expect((await context.cookies()).find((c) => c.name === 'lxzone_portal')).toMatchObject({ secure: true, httpOnly: true, sameSite: 'Strict' });
    await row(page, 'certzone').getByRole('button', { name: 'Boot certzone' }).click();
    await eventually(() => row(page, 'certzone').innerText()).toContain('running');
    await context.close();

    // Outside a browser: the certificate opens a session only where the page asks for one.
    const session = await get(`${url}api/session`, 'operator');
    expect(session.status).toBe(200);
    expect(session.setCookie?.join(';')).toMatch(/lxzone_portal=.*; Secure/);
    expect((await get(`${url}api/zones`, 'operator')).status).toBe(401);
    const cookie = session.setCookie![0]!.split(';')[0]!;
    expect((await get(`${url}api/zones`, 'operator', cookie)).status).toBe(200);

    // No certificate, one of another CA (with the session's cookie too): no answer at all, and the log says why.
    const none = await get(`${url}api/session`);
    expect(none.status).toBeUndefined();
    expect(none.error).toMatch(REFUSED);
    await eventually(() => portal.log).toMatch(/portal: TLS refused 127\.0\.0\.1: ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE/);
    for (const c of [undefined, cookie]) {
      const rogue = await get(`${url}api/session`, 'rogue', c);
      expect(rogue.status).toBeUndefined();
      expect(rogue.error).toMatch(REFUSED);
    }
    await eventually(() => portal.log).toMatch(/portal: TLS refused 127\.0\.0\.1: its certificate: UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    // Plain HTTP on the portal's port: not served either.
    const plain = await fetch(url.replace('https:', 'http:')).then(
      (r) => r.status,
      () => 'refused',
    );
    expect(plain).toBe('refused');
    await eventually(() => portal.log).toMatch(/portal: TLS refused 127\.0\.0\.1: ERR_SSL_HTTP_REQUEST/);
    // The operator still gets in after all that: the refusals were for the clients, not a portal gone.
    expect((await get(`${url}api/zones`, 'operator', cookie)).status).toBe(200);
  }, TEST_MS);

  it('refuses incomplete or unusable TLS flags with exit code 2, naming them', async () => {
    const daemon = (args: string[]) => env.cli(['daemon', ...args], { timeoutMs: WAIT_MS });
    const [missing, alone, wrongKey] = await Promise.all([
      daemon(['--portal', '127.0.0.1:0', '--portal-tlscert', pem('server.pem'), '--portal-tlskey', pem('server-key.pem')]),
      daemon(['--portal-tlscacert', pem('ca.pem')]),
      daemon(['--portal', '127.0.0.1:0', '--portal-tlscacert', pem('ca.pem'), '--portal-tlscert', pem('server.pem'), '--portal-tlskey', pem('operator-key.pem')]),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--portal-tlscacert missing');
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain('go with --portal');
    expect(wrongKey.code).toBe(2);
    expect(wrongKey.stderr).toMatch(/the portal's CA, certificate or key cannot be used/);
    expect(env.daemonPid()).toBeUndefined();
  }, TEST_MS);
});
