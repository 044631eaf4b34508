// The web portal in a real browser (Debian's chromium, headless, driven by
// playwright-core) against a real daemon (`lxzone daemon --portal`) and real
// zones booted by the CLI in another process: login, the zone list and its
// live updates after CLI actions (the list and an open zone page), actions and
// cap updates from the page (the zone's /proc/meminfo read in the page's
// terminal before and after), forged requests from another origin refused
// (CSRF, websocket), a terminal into a zone that runs a command, takes Ctrl-C
// and follows the window's size, the syscall report, the login limit, and the
// main pages readable on a narrow window (no sideways scrolling). Create,
// the disk plot, events and logs: 92.portal.create.
import { createServer, type Server } from 'node:http';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ZoneInfo } from '../src/zone/lifecycle/types.js';
import { useLifecycleEnv } from './support/lifecycle-env.js';
import { cliOk, fitsNarrow, row, terminal, usePortal } from './support/portal.js';

const env = useLifecycleEnv(92, {
  // The zone's /proc/meminfo follows its memory cap (LXCFS), as on a host that has it.
  procview: true,
});
const ok = cliOk(env);
const list = async (): Promise<ZoneInfo[]> => JSON.parse(await ok(['list', '--json']));
const portal = usePortal(env);
/** Many steps, each waiting for real zones and a real browser on a loaded host. */
const LONG = 480_000;
const loggedIn = () => portal.loggedIn();

describe('lxzone daemon --portal', () => {
  it('asks for the token, stores only its hash, and shows a zone the CLI booted with its address', async () => {
    await portal.start();
    const hashFile = join(env.stateDir, 'portal-token.sha256');
    expect(statSync(hashFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(hashFile, 'utf8')).not.toContain(portal.token);

    // Without a session the API says so; a wrong token is refused.
    const anon = await fetch(`${portal.url}api/zones`);
    expect(anon.status).toBe(401);
    const page = await portal.browser.newPage();
    await page.goto(portal.url);
    await page.getByLabel('Login token').fill('not-the-token');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByText('login: wrong token').waitFor();
    // The pages carry a CSP without inline scripts, and the session cookie is HttpOnly and SameSite=Strict.
    const res = await fetch(portal.url);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('content-security-policy')).not.toContain("script-src 'self' 'unsafe-inline'");
    await page.close();

    await ok(['create', 'web', '-e', 'API_KEY=s3cr3t-value', '--', '/bin/sh', '-c', 'while true; do echo tick-$((i=i+1)); sleep 1; done']);
    await ok(['boot', 'web']);
    const p = await loggedIn();
    const cookies = await p.context().cookies();
    expect(cookies.find((c) => c.name === 'lxzone_portal')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    const info = (await list()).find((z) => z.name === 'web')!;
    await expect.poll(() => row(p, 'web').innerText()).toContain('running');
    const text = await row(p, 'web').innerText();
    expect(text).toContain(info.ipv4!);
    expect(text).toContain(info.ipv6!);
    await p.screenshot({ path: join(portal.shots, 'zones.png'), fullPage: true });
    await fitsNarrow(p);

    // The zone's page: its env values hidden until revealed, its logs live.
    await p.getByRole('link', { name: 'web' }).click();
    await p.getByRole('heading', { name: 'Zone web' }).waitFor();
    expect(await p.locator('pre.config').innerText()).not.toContain('s3cr3t-value');
    await expect.poll(() => p.locator('#log').innerText(), { timeout: 120_000 }).toMatch(/tick-\d+/);
    const seen = Number(/tick-(\d+)\s*$/.exec(await p.locator('#log').innerText())?.[1]);
    await expect.poll(async () => Number(/tick-(\d+)\s*$/.exec(await p.locator('#log').innerText())?.[1]), { timeout: 120_000 }).toBeGreaterThan(seen);
    p.once('dialog', (d) => void d.accept());
    await p.getByRole('button', { name: 'Reveal environment values' }).click();
    await expect.poll(() => p.locator('pre.config').innerText()).toContain('s3cr3t-value');
    await p.context().close();
  }, LONG);

  it('updates the list live when the CLI creates, boots and halts zones, and changes caps through the API the CLI uses', async () => {
    await portal.start();
    await ok(['create', 'first', '--', '/bin/sleep', '600']);
    const p = await loggedIn();
    await row(p, 'first').waitFor();
    // Another process (the CLI) acts; the open page follows without a reload,
    // and a keyboard user's focus stays where it was in the list.
    await row(p, 'first').getByRole('link', { name: 'first' }).focus();
    await ok(['create', 'second', '--', '/bin/sleep', '600']);
    await row(p, 'second').waitFor({ timeout: 120_000 });
    expect(await p.evaluate(() => document.activeElement?.textContent)).toBe('first');
    await ok(['boot', 'second']);
    await expect.poll(() => row(p, 'second').innerText(), { timeout: 120_000 }).toContain('running');
    await ok(['halt', 'second']);
    await expect.poll(() => row(p, 'second').innerText(), { timeout: 120_000 }).toContain('stopped');

    // Boot from the page; on the zone's page a shell reads the zone's /proc/meminfo, then a
    // memory cap set in the cap form reaches its cgroup and that file (the shell stays open).
    await row(p, 'first').getByRole('button', { name: 'Boot first' }).click();
    await expect.poll(() => row(p, 'first').innerText(), { timeout: 120_000 }).toContain('running');
    await p.getByRole('link', { name: 'first' }).click();
    await p.getByRole('heading', { name: 'Zone first' }).waitFor();
    await p.getByRole('button', { name: 'Open a shell' }).click();
    await p.getByText('Connected to first.').waitFor({ timeout: 120_000 });
    await p.locator('#terminal').click();
    await p.keyboard.type('grep MemTotal /proc/meminfo\n');
    await expect.poll(() => terminal(p), { timeout: 120_000 }).toMatch(/MemTotal:\s+\d+ kB/);
    expect(await terminal(p)).not.toMatch(/MemTotal:\s+98304 kB/);
    await p.getByLabel('Memory (MiB, empty: no cap)').fill('96');
    await p.getByRole('button', { name: 'Update caps' }).click();
    await expect.poll(async () => JSON.parse(await ok(['stats', 'first', '--json', '--interval', '0'])).memory.max, { timeout: 120_000 }).toBe(96 * 1024 * 1024);
    await expect.poll(() => p.locator('figure.plot').first().innerText(), { timeout: 120_000 }).toContain('of 96.0 MiB');
    await expect.poll(() => p.locator('pre.config').innerText(), { timeout: 120_000 }).toContain(String(96 * 1024 * 1024));
    await p.locator('#terminal').click();
    await p.keyboard.type('clear; grep MemTotal /proc/meminfo\n');
    await expect.poll(() => terminal(p), { timeout: 120_000 }).toMatch(/MemTotal:\s+98304 kB/);
    // A cap changed with the CLI shows in the open page (its form and configuration).
    await ok(['update', 'first', '--memory', '128m']);
    await expect.poll(() => p.getByLabel('Memory (MiB, empty: no cap)').inputValue(), { timeout: 120_000 }).toBe('128');

    // Halt and reboot ask first; accepted, they act. A CLI boot then shows in the open page.
    p.once('dialog', (d) => void d.accept());
    await p.getByRole('button', { name: 'Halt first' }).click();
    await p.getByText('The zone is not running: no usage figures.').waitFor({ timeout: 120_000 });
    expect((await list()).find((z) => z.name === 'first')?.state).toBe('stopped');
    await ok(['boot', 'first']);
    await p.getByRole('heading', { name: 'Usage against caps' }).waitFor({ timeout: 120_000 });
    const started = (await list()).find((z) => z.name === 'first')!.startedAt;
    p.once('dialog', (d) => void d.accept());
    await p.getByRole('button', { name: 'Reboot first' }).click();
    await expect.poll(async () => (await list()).find((z) => z.name === 'first')?.startedAt, { timeout: 60_000 }).not.toBe(started);
    await expect.poll(async () => (await list()).find((z) => z.name === 'first')?.state, { timeout: 60_000 }).toBe('running');

    // Destroy asks first: dismissed, nothing happens; accepted, the zone is gone from the list.
    await p.getByRole('link', { name: '← All zones' }).click();
    p.once('dialog', (d) => void d.dismiss());
    await row(p, 'second').getByRole('button', { name: 'Destroy second' }).click();
    await p.waitForTimeout(1500);
    expect((await list()).map((z) => z.name)).toContain('second');
    p.once('dialog', (d) => void d.accept());
    await row(p, 'second').getByRole('button', { name: 'Destroy second' }).click();
    await row(p, 'second').waitFor({ state: 'detached', timeout: 60_000 });
    expect((await list()).map((z) => z.name)).not.toContain('second');
    await p.context().close();
  }, LONG);

  it('refuses forged requests: without the CSRF token, from another origin, and a websocket from another origin', async () => {
    await portal.start();
    await ok(['create', 'target', '--', '/bin/sleep', '600']);
    await ok(['boot', 'target']);
    const p = await loggedIn();
    // In the portal's own page, without the token: refused.
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
          const ws = await new Promise<string>((resolve) => {
            const s = new WebSocket(`${portal.replace('http', 'ws')}api/zones/target/terminal?csrf=guess`);
            s.onopen = () => resolve('open');
            s.onerror = () => resolve('refused');
          });
          return ws;
        },
        { portal: portal.url },
      );
      expect(outcome).toBe('refused');
      await attacker.close();
    } finally {
      await new Promise((r) => evil.close(r));
    }
    // A forged request from outside any browser: right cookie, foreign Origin.
    const cookie = (await p.context().cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    const csrf = await p.evaluate(async () => (await (await fetch('/api/session')).json()).csrf as string);
    const forged = await fetch(`${portal.url}api/zones/target/halt`, { method: 'POST', headers: { cookie, origin: 'http://evil.example', 'x-csrf-token': csrf } });
    expect(forged.status).toBe(403);
    expect((await list()).find((z) => z.name === 'target')?.state).toBe('running');
    await p.context().close();
  }, LONG);

  it('opens a terminal into a running zone: a command runs, Ctrl-C interrupts, the size follows the window', async () => {
    await portal.start();
    await ok(['create', 'shell', '--', '/bin/sleep', '600']);
    await ok(['boot', 'shell']);
    const p = await loggedIn();
    await p.getByRole('link', { name: 'shell' }).click();
    await p.getByRole('button', { name: 'Open a shell' }).click();
    await p.getByText('Connected to shell.').waitFor({ timeout: 120_000 });
    const screen = () => terminal(p);
    await p.locator('#terminal').click();
    await p.keyboard.type('echo portal-$((6*7)); hostname\n');
    await expect.poll(screen, { timeout: 120_000 }).toMatch(/portal-42\s+shell/);
    // The command runs in the zone: its processes are the zone's (its sleep), in its pid namespace.
    await p.keyboard.type('for f in /proc/[0-9]*/cmdline; do tr "\\0" " " < $f; echo; done\n');
    await expect.poll(screen, { timeout: 120_000 }).toContain('/bin/sleep 600');
    await p.keyboard.type('sleep 300; echo not-interrupted\n');
    await p.waitForTimeout(500);
    await p.keyboard.press('Control+C');
    await p.keyboard.type('echo after-$((1+1))\n');
    await expect.poll(screen, { timeout: 120_000 }).toContain('after-2');
    // The command line shows the words; its output would be a line of its own.
    expect(await screen()).not.toMatch(/^not-interrupted\s*$/m);
    await p.keyboard.type('stty size\n');
    await expect.poll(screen, { timeout: 120_000 }).toMatch(/\n\d+ \d+\s/);
    const before = /\n(\d+) (\d+)\s/.exec(await screen())!;
    await p.setViewportSize({ width: 700, height: 900 });
    await p.waitForTimeout(1000);
    await p.keyboard.type('clear; stty size\n');
    await expect.poll(async () => /(\d+) (\d+)\s/.exec(await screen())?.[2], { timeout: 120_000 }).not.toBe(before[2]);
    await p.setViewportSize({ width: 1200, height: 900 });
    await p.keyboard.type('clear; echo hello from the portal; uname -n\n');
    await p.waitForTimeout(1000);
    await p.locator('#terminal').scrollIntoViewIfNeeded();
    await p.screenshot({ path: join(portal.shots, 'terminal.png') });
    await p.keyboard.type('exit\n');
    await p.getByText('The shell exited (status 0).').waitFor({ timeout: 120_000 });
    await p.context().close();
  }, LONG);

  it('shows the syscall coverage report per ABI and profile, filterable', async () => {
    await portal.start();
    const p = await loggedIn();
    await p.getByRole('link', { name: 'Syscall coverage' }).click();
    await p.locator('table.syscalls tbody tr').first().waitFor();
    await p.getByLabel('Search').fill('uname');
    await expect.poll(() => p.locator('table.syscalls tbody tr').count()).toBeGreaterThan(0);
    const rows = await p.locator('table.syscalls tbody tr').allInnerTexts();
    expect(rows.every((r) => /uname/i.test(r))).toBe(true);
    expect(rows.join('\n')).toContain('emulate:');
    await p.getByLabel('Profile').selectOption('strict');
    await expect.poll(() => p.locator('#sc-summary').innerText()).toContain('profile strict');
    await p.getByLabel('Search').fill('');
    await fitsNarrow(p);
    await p.setViewportSize({ width: 420, height: 900 });
    await p.screenshot({ path: join(portal.shots, 'syscalls-narrow.png') });
    await p.context().close();
  }, LONG);

  it('serves the portal beside a daemon the CLI started on demand, live, and slows down a token guesser', async () => {
    // The CLI's boot starts a daemon on demand; `daemon --portal` then serves the portal for it.
    await ok(['create', 'solo', '--', '/bin/sleep', '600']);
    await ok(['boot', 'solo']);
    await portal.start();
    expect(portal.log).toMatch(/another lxzone daemon already serves .*; serving the portal for it/);
    const p = await loggedIn();
    await expect.poll(() => row(p, 'solo').innerText(), { timeout: 120_000 }).toContain('running');
    // Changes made through the other daemon reach the open page (pushed: the store's files changed).
    await ok(['halt', 'solo']);
    await expect.poll(() => row(p, 'solo').innerText(), { timeout: 120_000 }).toContain('stopped');
    await ok(['create', 'later', '--', '/bin/sleep', '600']);
    await row(p, 'later').waitFor({ timeout: 120_000 });
    await p.context().close();

    // Wrong tokens: five are answered, then this address waits, even with the right token.
    const login = (t: string) => fetch(`${portal.url}api/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: portal.url.replace(/\/$/, '') }, body: JSON.stringify({ token: t }) });
    for (let i = 0; i < 5; i++) expect((await login(`wrong-${i}`)).status).toBe(401);
    const limited = await login('wrong-5');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await limited.json()) as { error: string }).error).toMatch(/too many wrong tokens/);
    const right = await login(portal.token);
    expect(right.status).toBe(429);
    expect(right.headers.get('set-cookie')).toBeNull();
  }, LONG);
});
