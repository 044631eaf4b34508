// The web portal's way in and its read-only pages, in a real browser (Debian's
// chromium, headless, driven by playwright-core) against a real daemon
// (`lxzone daemon --portal`) and a real zone booted by the CLI in another
// process: the token asked for and only its hash stored, a wrong one refused,
// a request without a session refused, the zone's row with its addresses,
// its page with environment values hidden until revealed and its logs
// followed live; the list readable on a narrow window. The other concerns:
// 92.portal.live, .caps, .actions, .terminal, .refusals, .create, .events,
// .syscalls, .client-cert.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useLifecycleEnv } from './support/lifecycle-env.js';
import { cliOk, eventually, fitsNarrow, row, TEST_MS, usePortal, zoneList } from './support/portal.js';

const env = useLifecycleEnv(40);
const ok = cliOk(env);
const list = zoneList(ok);
const portal = usePortal(env);

/** The last tick-N the zone's log shows on the page. */
const lastTick = (text: string) => Number(/tick-(\d+)\s*$/.exec(text)?.[1] ?? NaN);

describe('the portal: login, the list and a zone\'s page', () => {
  it('asks for the token, stores only its hash, and shows a zone the CLI booted with its address, its logs live', async () => {
    await portal.start();
    const hashFile = join(env.stateDir, 'portal-token.sha256');
    expect(statSync(hashFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(hashFile, 'utf8')).not.toContain(portal.token);

    // Without a session the API says so; a wrong token is refused.
    const anon = await fetch(`${portal.url}api/zones`);
    expect(anon.status).toBe(401);
    const login = await (await portal.newContext()).newPage();
    await login.goto(portal.url);
    await login.getByLabel('Login token').fill('not-the-token');
    await login.getByRole('button', { name: 'Log in' }).click();
    await login.getByText('login: wrong token').waitFor();
    await login.context().close();
    // The pages carry a CSP without inline scripts.
    const res = await fetch(portal.url);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('content-security-policy')).not.toContain("script-src 'self' 'unsafe-inline'");

    await ok(['create', 'web', '-e', 'API_KEY=s3cr3t-value', '--', '/bin/sh', '-c', 'while true; do echo tick-$((i=i+1)); sleep 1; done']);
    await ok(['boot', 'web']);
    const p = await portal.loggedIn();
    // The session cookie: HttpOnly, SameSite=Strict.
    expect((await p.context().cookies()).find((c) => c.name === 'lxzone_portal')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    const info = (await list()).find((z) => z.name === 'web')!;
    await eventually(() => row(p, 'web').innerText()).toContain('running');
    const text = await row(p, 'web').innerText();
    expect(text).toContain(info.ipv4!);
    expect(text).toContain(info.ipv6!);
    await p.screenshot({ path: join(portal.shots, 'zones.png'), fullPage: true });
    await fitsNarrow(p);

    // The zone's page: its env values hidden until revealed, its logs followed live.
    await p.getByRole('link', { name: 'web' }).click();
    await p.getByRole('heading', { name: 'Zone web' }).waitFor();
    expect(await p.locator('pre.config').innerText()).not.toContain('s3cr3t-value');
    await eventually(() => p.locator('#log').innerText()).toMatch(/tick-\d+/);
    const seen = lastTick(await p.locator('#log').innerText());
    await eventually(async () => lastTick(await p.locator('#log').innerText())).toBeGreaterThan(seen);
    p.once('dialog', (d) => void d.accept());
    await p.getByRole('button', { name: 'Reveal environment values' }).click();
    await eventually(() => p.locator('pre.config').innerText()).toContain('s3cr3t-value');
    await p.context().close();
  }, TEST_MS);
});
