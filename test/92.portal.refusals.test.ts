// What the web portal refuses, against a real daemon (`lxzone daemon
// --portal`) and a real zone, from a real browser (Debian's chromium through
// playwright-core) and from outside one: requests and the terminal's
// websocket without a session (no token given); a request from the portal's
// own page without the CSRF token; an attacker's page on another origin
// (same site, so the SameSite cookie goes along) posting, deleting and
// opening the terminal's websocket; a forged request with the right cookie
// and CSRF token but a foreign Origin; a token guesser slowed down. The zone
// stays running throughout.
import { createServer, type Server } from 'node:http';
import { describe, expect, it } from 'vitest';
// Not named WebSocket: the attacker's page below uses the browser's own.
import { WebSocket as WsClient } from 'ws';
import { useLifecycleEnv } from './support/lifecycle-env.js';
import { cliOk, row, eventually, TEST_MS, usePortal, zoneList } from './support/portal.js';

const env = useLifecycleEnv(38);
const ok = cliOk(env);
const list = zoneList(ok);
const portal = usePortal(env);

/** The status the portal answers a websocket upgrade with (101: opened), from outside a browser. */
function upgradeStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WsClient(url, { headers, handshakeTimeout: 120_000 });
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('unexpected-response', (_req, res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('error', reject);
  });
}

describe('the portal: refusals', () => {
  it('refuses requests and the terminal without the token, without the CSRF token, and from another origin', async () => {
    await portal.start();
    await ok(['create', 'target', '--', '/bin/sleep', '600']);
    await ok(['boot', 'target']);
    const origin = portal.url.replace(/\/$/, '');
    const wsUrl = `${portal.url.replace('http', 'ws')}api/zones/target/terminal`;

    // No session (the token never given): nothing is listed, nothing acts, no terminal opens.
    expect((await fetch(`${portal.url}api/zones`)).status).toBe(401);
    expect((await fetch(`${portal.url}api/zones/target/halt`, { method: 'POST', headers: { origin } })).status).toBe(401);
    expect(await upgradeStatus(`${wsUrl}?csrf=guess`, { origin })).toBe(401);

    const p = await portal.loggedIn();
    await eventually(() => row(p, 'target').innerText()).toContain('running');
    // In the portal's own page, without the CSRF token: refused.
    const noToken = await p.evaluate(async () => (await fetch('/api/zones/target/halt', { method: 'POST' })).status);
    expect(noToken).toBe(403);

    // An attacker's page on another origin (same site: 127.0.0.1 on another port, so the
    // SameSite cookie is sent), with the victim logged in to the portal in the same browser.
    const evil: Server = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<!doctype html><title>evil</title><body>evil</body>');
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', () => r()));
    try {
      const evilUrl = `http://127.0.0.1:${(evil.address() as { port: number }).port}/`;
      const attacker = await p.context().newPage();
      await attacker.goto(evilUrl);
      const outcome = await attacker.evaluate(
        async ({ portal }) => {
          // A simple request (no preflight), with the cookie; and a websocket, which has no CORS.
          await fetch(`${portal}api/zones/target/halt`, { method: 'POST', mode: 'no-cors', credentials: 'include', body: '{}', headers: { 'Content-Type': 'text/plain' } }).catch(() => undefined);
          await fetch(`${portal}api/zones/target`, { method: 'DELETE', mode: 'no-cors', credentials: 'include' }).catch(() => undefined);
          return new Promise<string>((resolve) => {
            const s = new WebSocket(`${portal.replace('http', 'ws')}api/zones/target/terminal?csrf=guess`);
            s.onopen = () => resolve('open');
            s.onerror = () => resolve('refused');
          });
        },
        { portal: portal.url },
      );
      expect(outcome).toBe('refused');
      await attacker.close();
    } finally {
      await new Promise((r) => evil.close(r));
    }
    // Forged from outside any browser: the right cookie and CSRF token, a foreign Origin (a request, the websocket).
    const cookie = (await p.context().cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    const csrf = await p.evaluate(async () => (await (await fetch('/api/session')).json()).csrf as string);
    const forged = await fetch(`${portal.url}api/zones/target/halt`, { method: 'POST', headers: { cookie, origin: 'http://evil.example', 'x-csrf-token': csrf } });
    expect(forged.status).toBe(403);
    expect(await upgradeStatus(`${wsUrl}?csrf=${csrf}`, { cookie, origin: 'http://evil.example' })).toBe(403);
    // With this portal's Origin the same websocket opens: the refusals above were for the origin.
    expect(await upgradeStatus(`${wsUrl}?csrf=${csrf}&cols=80&rows=24`, { cookie, origin })).toBe(101);
    expect(portal.log).toMatch(/terminal refused: Origin "http:\/\/evil\.example" is not this portal/);
    expect((await list()).find((z) => z.name === 'target')?.state).toBe('running');
    await p.context().close();
  }, TEST_MS);

  it('slows down a token guesser: five wrong tokens, then this address waits, even with the right one', async () => {
    await portal.start();
    const login = (t: string) => fetch(`${portal.url}api/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: portal.url.replace(/\/$/, '') }, body: JSON.stringify({ token: t }) });
    for (let i = 0; i < 5; i++) expect((await login(`wrong-${i}`)).status).toBe(401);
    const limited = await login('wrong-5');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await limited.json()) as { error: string }).error).toMatch(/too many wrong tokens/);
    const right = await login(portal.token);
    expect(right.status).toBe(429);
    expect(right.headers.get('set-cookie')).toBeNull();
  }, TEST_MS);
});
