// The web portal in a real browser (Debian's chromium, headless, driven by
// playwright-core) against a real daemon (`lxzone daemon --portal`) and real
// zones booted by the CLI in another process: login, the zone list and its
// live updates after CLI actions, cap updates, forged requests from another
// origin refused (CSRF, websocket), and a terminal into a zone that runs a
// command, takes Ctrl-C and follows the window's size.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { useLifecycleEnv, waitFor } from './support/lifecycle-env.js';
import { makeBusyboxImage, repoRoot } from './support/zones.js';

const tmp: string[] = [];
const env = useLifecycleEnv(92, {
  afterReset: () => {
    for (const d of tmp.splice(0)) rmSync(d, { recursive: true, force: true });
  },
});
const { ok } = env;
const CHROMIUM = '/usr/bin/chromium';
/** Screenshots to look at (LXZONE_PORTAL_SHOTS=docs/portal writes the docs' ones). */
const shots = process.env.LXZONE_PORTAL_SHOTS ? join(repoRoot, process.env.LXZONE_PORTAL_SHOTS) : join(env.base, 'shots');

let browser: Browser;
let daemon: ChildProcess | undefined;
let url = '';
let token = '';
/** What the portal's process wrote on stderr (its log). */
let daemonErr = '';

/** `lxzone daemon --portal 127.0.0.1:0`: the URL and the token it prints once. */
async function startPortalDaemon(): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test', 'support', 'cli-entry.ts'), 'daemon', '--portal', '127.0.0.1:0'], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  daemon = child;
  let out = '';
  let err = '';
  daemonErr = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => {
    err += d;
    daemonErr += d;
  });
  await waitFor(() => /login token \(shown once\): \S+/.test(out) || child.exitCode !== null, 60_000);
  const m = /lxzone portal: (http:\S+)\nlogin token \(shown once\): (\S+)/.exec(out);
  if (!m) throw new Error(`the daemon did not print its portal: ${out} ${err}`);
  url = m[1]!;
  token = m[2]!;
}

async function stopPortalDaemon(): Promise<void> {
  const d = daemon;
  daemon = undefined;
  if (!d || d.exitCode !== null) return;
  const exited = new Promise((r) => d.once('exit', r));
  d.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
  if (d.exitCode === null) d.kill('SIGKILL');
}

async function loggedIn(): Promise<Page> {
  // A context of its own: a test may open another page (an attacker's) beside it.
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  await page.goto(url);
  await page.getByLabel('Login token').fill(token);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Zones' }).waitFor();
  return page;
}

const row = (page: Page, name: string) => page.locator(`tr[data-zone="${name}"]`);

beforeAll(async () => {
  mkdirSync(shots, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
}, 60_000);

// Runs before the environment's reset (hooks run in reverse order): the
// portal's daemon is stopped and waited for; the reset then removes the zones.
afterEach(async () => {
  await stopPortalDaemon();
});

afterAll(async () => {
  await browser?.close();
});

describe('lxzone daemon --portal', () => {
  it('asks for the token, stores only its hash, and shows a zone the CLI booted with its address', async () => {
    await startPortalDaemon();
    const hashFile = join(env.stateDir, 'portal-token.sha256');
    expect(statSync(hashFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(hashFile, 'utf8')).not.toContain(token);

    // Without a session the API says so; a wrong token is refused.
    const anon = await fetch(`${url}api/zones`);
    expect(anon.status).toBe(401);
    const page = await browser.newPage();
    await page.goto(url);
    await page.getByLabel('Login token').fill('not-the-token');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByText('login: wrong token').waitFor();
    // The pages carry a CSP without inline scripts, and the session cookie is HttpOnly and SameSite=Strict.
    const res = await fetch(url);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('content-security-policy')).not.toContain("script-src 'self' 'unsafe-inline'");
    await page.close();

    await ok(['create', 'web', '-e', 'API_KEY=s3cr3t-value', '--', '/bin/sh', '-c', 'while true; do echo tick-$((i=i+1)); sleep 1; done']);
    await ok(['boot', 'web']);
    const p = await loggedIn();
    const cookies = await p.context().cookies();
    expect(cookies.find((c) => c.name === 'lxzone_portal')).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    const info = (await env.list()).find((z) => z.name === 'web')!;
    await expect.poll(() => row(p, 'web').innerText()).toContain('running');
    const text = await row(p, 'web').innerText();
    expect(text).toContain(info.ipv4!);
    expect(text).toContain(info.ipv6!);
    await p.screenshot({ path: join(shots, 'zones.png'), fullPage: true });

    // The zone's page: its env values hidden until revealed, its logs live.
    await p.getByRole('link', { name: 'web' }).click();
    await p.getByRole('heading', { name: 'Zone web' }).waitFor();
    expect(await p.locator('pre.config').innerText()).not.toContain('s3cr3t-value');
    await expect.poll(() => p.locator('#log').innerText(), { timeout: 30_000 }).toMatch(/tick-\d+/);
    const seen = Number(/tick-(\d+)\s*$/.exec(await p.locator('#log').innerText())?.[1]);
    await expect.poll(async () => Number(/tick-(\d+)\s*$/.exec(await p.locator('#log').innerText())?.[1]), { timeout: 30_000 }).toBeGreaterThan(seen);
    p.once('dialog', (d) => void d.accept());
    await p.getByRole('button', { name: 'Reveal environment values' }).click();
    await expect.poll(() => p.locator('pre.config').innerText()).toContain('s3cr3t-value');
    await p.context().close();
  });

  it('updates the list live when the CLI creates, boots and halts zones, and changes caps through the API the CLI uses', async () => {
    await startPortalDaemon();
    await ok(['create', 'first', '--', '/bin/sleep', '600']);
    const p = await loggedIn();
    await row(p, 'first').waitFor();
    // Another process (the CLI) acts; the open page follows without a reload.
    await ok(['create', 'second', '--', '/bin/sleep', '600']);
    await row(p, 'second').waitFor({ timeout: 30_000 });
    await ok(['boot', 'second']);
    await expect.poll(() => row(p, 'second').innerText(), { timeout: 30_000 }).toContain('running');
    await ok(['halt', 'second']);
    await expect.poll(() => row(p, 'second').innerText(), { timeout: 30_000 }).toContain('stopped');

    // Boot from the page, then a memory cap set on the zone's page reaches its cgroup.
    await row(p, 'first').getByRole('button', { name: 'Boot first' }).click();
    await expect.poll(() => row(p, 'first').innerText(), { timeout: 30_000 }).toContain('running');
    await p.getByRole('link', { name: 'first' }).click();
    await p.getByLabel('Memory (MiB, empty: no cap)').fill('96');
    await p.getByRole('button', { name: 'Update caps' }).click();
    await expect.poll(async () => JSON.parse(await ok(['stats', 'first', '--json', '--interval', '0'])).memory.max, { timeout: 30_000 }).toBe(96 * 1024 * 1024);
    await p.getByRole('heading', { name: 'Usage against caps' }).waitFor();
    await expect.poll(() => p.locator('figure.plot').first().innerText(), { timeout: 30_000 }).toContain('of 96.0 MiB');
    await p.screenshot({ path: join(shots, 'zone.png'), fullPage: true });

    // Destroy asks first: dismissed, nothing happens.
    await p.getByRole('link', { name: '← All zones' }).click();
    p.once('dialog', (d) => void d.dismiss());
    await row(p, 'second').getByRole('button', { name: 'Destroy second' }).click();
    await p.waitForTimeout(1500);
    expect((await env.list()).map((z) => z.name)).toContain('second');
    await p.context().close();
  });

  it('refuses forged requests: without the CSRF token, from another origin, and a websocket from another origin', async () => {
    await startPortalDaemon();
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
        { portal: url },
      );
      expect(outcome).toBe('refused');
      await attacker.close();
    } finally {
      await new Promise((r) => evil.close(r));
    }
    // A forged request from outside any browser: right cookie, foreign Origin.
    const cookie = (await p.context().cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    const csrf = await p.evaluate(async () => (await (await fetch('/api/session')).json()).csrf as string);
    const forged = await fetch(`${url}api/zones/target/halt`, { method: 'POST', headers: { cookie, origin: 'http://evil.example', 'x-csrf-token': csrf } });
    expect(forged.status).toBe(403);
    expect((await env.list()).find((z) => z.name === 'target')?.state).toBe('running');
    await p.context().close();
  });

  it('opens a terminal into a running zone: a command runs, Ctrl-C interrupts, the size follows the window', async () => {
    await startPortalDaemon();
    await ok(['create', 'shell', '--', '/bin/sleep', '600']);
    await ok(['boot', 'shell']);
    const p = await loggedIn();
    await p.getByRole('link', { name: 'shell' }).click();
    await p.getByRole('button', { name: 'Open a shell' }).click();
    await p.getByText('Connected to shell.').waitFor({ timeout: 30_000 });
    const screen = () => p.locator('#terminal .xterm-rows').innerText();
    await p.locator('#terminal').click();
    await p.keyboard.type('echo portal-$((6*7)); hostname\n');
    await expect.poll(screen, { timeout: 30_000 }).toMatch(/portal-42\s+shell/);
    // The command runs in the zone: its processes are the zone's (its sleep), in its pid namespace.
    await p.keyboard.type('for f in /proc/[0-9]*/cmdline; do tr "\\0" " " < $f; echo; done\n');
    await expect.poll(screen, { timeout: 30_000 }).toContain('/bin/sleep 600');
    await p.keyboard.type('sleep 300; echo not-interrupted\n');
    await p.waitForTimeout(500);
    await p.keyboard.press('Control+C');
    await p.keyboard.type('echo after-$((1+1))\n');
    await expect.poll(screen, { timeout: 30_000 }).toContain('after-2');
    // The command line shows the words; its output would be a line of its own.
    expect(await screen()).not.toMatch(/^not-interrupted\s*$/m);
    await p.keyboard.type('stty size\n');
    await expect.poll(screen, { timeout: 30_000 }).toMatch(/\n\d+ \d+\s/);
    const before = /\n(\d+) (\d+)\s/.exec(await screen())!;
    await p.setViewportSize({ width: 700, height: 900 });
    await p.waitForTimeout(1000);
    await p.keyboard.type('clear; stty size\n');
    await expect.poll(async () => /(\d+) (\d+)\s/.exec(await screen())?.[2], { timeout: 30_000 }).not.toBe(before[2]);
    await p.setViewportSize({ width: 1200, height: 900 });
    await p.keyboard.type('clear; echo hello from the portal; uname -n\n');
    await p.waitForTimeout(1000);
    await p.locator('#terminal').scrollIntoViewIfNeeded();
    await p.screenshot({ path: join(shots, 'terminal.png') });
    await p.keyboard.type('exit\n');
    await p.getByText('The shell exited (status 0).').waitFor({ timeout: 30_000 });
    await p.context().close();
  });

  it('shows the syscall coverage report per ABI and profile, filterable', async () => {
    await startPortalDaemon();
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
    await p.setViewportSize({ width: 420, height: 900 });
    await p.screenshot({ path: join(shots, 'syscalls-narrow.png') });
    await p.context().close();
  });

  it('serves the portal beside a daemon the CLI started on demand, live, and slows down a token guesser', async () => {
    // The CLI's boot starts a daemon on demand; `daemon --portal` then serves the portal for it.
    await ok(['create', 'solo', '--', '/bin/sleep', '600']);
    await ok(['boot', 'solo']);
    await startPortalDaemon();
    expect(daemonErr).toMatch(/another lxzone daemon already serves .*; serving the portal for it/);
    const p = await loggedIn();
    await expect.poll(() => row(p, 'solo').innerText(), { timeout: 30_000 }).toContain('running');
    // Changes made through the other daemon reach the open page (pushed: the store's files changed).
    await ok(['halt', 'solo']);
    await expect.poll(() => row(p, 'solo').innerText(), { timeout: 30_000 }).toContain('stopped');
    await ok(['create', 'later', '--', '/bin/sleep', '600']);
    await row(p, 'later').waitFor({ timeout: 30_000 });
    await p.context().close();

    // Wrong tokens: five are answered, then this address waits, even with the right token.
    const login = (t: string) => fetch(`${url}api/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: url.replace(/\/$/, '') }, body: JSON.stringify({ token: t }) });
    for (let i = 0; i < 5; i++) expect((await login(`wrong-${i}`)).status).toBe(401);
    const limited = await login('wrong-5');
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await limited.json()) as { error: string }).error).toMatch(/too many wrong tokens/);
    const right = await login(token);
    expect(right.status).toBe(429);
    expect(right.headers.get('set-cookie')).toBeNull();
  });

  it('creates zones from an image (with a disk cap) and from a template; disk plot, unsupported-syscall events, log search and download', async () => {
    const archive = makeBusyboxImage(92, tmp);
    // A zone that asks for syscalls no kernel has (1000, 1001): each comes back ENOSYS and is reported.
    await ok(['create', 'unsup', '--', '/usr/bin/python3', '-c', 'import ctypes, time; l = ctypes.CDLL(None); l.syscall(1000); l.syscall(1001); time.sleep(600)']);
    await ok(['boot', 'unsup']);
    await startPortalDaemon();
    const p = await loggedIn();

    // From an image, with a disk cap, booted at once; its command keeps a quoted word together.
    await p.getByLabel('Name', { exact: true }).fill('img');
    await p.getByLabel(/^Image archive on the host/).fill(archive);
    await p.getByLabel(/^Command/).fill(`/bin/sh -c 'i=0; while true; do i=$((i+1)); echo alpha-$i; echo beta-$i; sleep 1; done'`);
    await p.getByLabel(/^Disk cap/).fill('64');
    await p.getByRole('button', { name: 'Create' }).click();
    await expect.poll(() => row(p, 'img').innerText(), { timeout: 60_000 }).toContain('running');
    const img = JSON.parse(await ok(['inspect', 'img']));
    expect(img.config.rootfs.type).toBe('image');
    expect(img.config.resources.diskBytes).toBe(64 * 1024 * 1024);

    // From a template: the configuration of img, its own name, not booted.
    await p.getByLabel('Name', { exact: true }).fill('img2');
    await p.getByLabel('Or copy the configuration of').selectOption('img');
    await p.getByLabel('Boot it now').uncheck();
    await p.getByRole('button', { name: 'Create' }).click();
    await expect.poll(() => row(p, 'img2').innerText(), { timeout: 60_000 }).toContain('stopped');
    const img2 = JSON.parse(await ok(['inspect', 'img2']));
    expect(img2.config.command).toEqual(img.config.command);
    expect(img2.config.resources.diskBytes).toBe(64 * 1024 * 1024);

    // The image zone's page: its disk against its cap; the log searched and downloaded.
    await p.getByRole('link', { name: 'img', exact: true }).click();
    await p.getByRole('heading', { name: 'Zone img' }).waitFor();
    const diskPlot = p.locator('figure.plot', { hasText: 'Disk' });
    await expect.poll(() => diskPlot.innerText(), { timeout: 30_000 }).toContain('of 64.0 MiB');
    await expect.poll(() => p.locator('#log').innerText(), { timeout: 30_000 }).toMatch(/beta-2\b/);
    await p.getByLabel('Search').fill('beta');
    const shown = (await p.locator('#log').innerText()).split('\n').filter(Boolean);
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.every((l) => l.includes('beta'))).toBe(true);
    const [download] = await Promise.all([p.waitForEvent('download'), p.getByRole('link', { name: 'Download' }).click()]);
    expect(download.suggestedFilename()).toBe('img.log');
    const saved = readFileSync((await download.path())!, 'utf8');
    expect(saved).toMatch(/^alpha-1$/m);
    expect(saved).toMatch(/^beta-1$/m);

    // The zone that asked for missing syscalls: its events, newest first, with their numbers.
    await p.goto(`${url}#/zone/unsup`);
    await p.getByRole('heading', { name: 'Zone unsup' }).waitFor();
    const events = p.locator('#unsupported-events');
    await expect.poll(() => events.innerText(), { timeout: 30_000 }).toContain('#1001');
    const text = await events.innerText();
    expect(text).toContain('#1000');
    expect(text.indexOf('#1001')).toBeLessThan(text.indexOf('#1000'));
    await p.screenshot({ path: join(shots, 'zone-events.png'), fullPage: true });
    await p.context().close();
  });
});

