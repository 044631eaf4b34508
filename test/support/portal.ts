// The web portal's browser tests (test/92.portal.*): `lxzone daemon --portal`
// started as a user starts it (its URL and token read from its stdout),
// Debian's chromium through playwright-core, a page logged in, and what the
// tests wait for on a page. Every hook is registered by usePortal.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { waitFor, type LifecycleEnv } from './lifecycle-env.js';
import { repoRoot } from './zones.js';

export const CHROMIUM = '/usr/bin/chromium';

export interface PortalHarness {
  readonly browser: Browser;
  /** The portal's URL and the token it printed (after start()). */
  readonly url: string;
  readonly token: string;
  /** What the portal's process wrote on stderr (its log). */
  readonly log: string;
  /** Where screenshots go (LXZONE_PORTAL_SHOTS=docs/portal writes the docs' ones). */
  readonly shots: string;
  /** `lxzone daemon --portal 127.0.0.1:0 ARGS`, until it printed its URL and token. */
  start(args?: string[]): Promise<void>;
  /** A page of its own context, logged in with the token (by keyboard: Enter submits). */
  loggedIn(): Promise<Page>;
}

/** Registers the browser and the portal's daemon for this file: stopped after each test, before the env's reset. */
export function usePortal(env: LifecycleEnv): PortalHarness {
  let browser: Browser | undefined;
  let daemon: ChildProcess | undefined;
  const h = {
    url: '',
    token: '',
    log: '',
    shots: process.env.LXZONE_PORTAL_SHOTS ? join(repoRoot, process.env.LXZONE_PORTAL_SHOTS) : join(env.base, 'shots'),
    get browser(): Browser {
      if (!browser) throw new Error('no browser: usePortal registers it in beforeAll');
      return browser;
    },
    async start(args: string[] = []): Promise<void> {
      const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'test', 'support', 'cli-entry.ts'), 'daemon', '--portal', '127.0.0.1:0', ...args], {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      daemon = child;
      let out = '';
      h.log = '';
      child.stdout!.on('data', (d) => (out += d));
      child.stderr!.on('data', (d) => (h.log += d));
      await waitFor(() => /login token \(shown once\): \S+/.test(out) || child.exitCode !== null, 60_000);
      const m = /lxzone portal: (https?:\S+)\nlogin token \(shown once\): (\S+)/.exec(out);
      if (!m) throw new Error(`the daemon did not print its portal: ${out} ${h.log}`);
      h.url = m[1]!;
      h.token = m[2]!;
    },
    async loggedIn(): Promise<Page> {
      // A context of its own: a test may open another page (an attacker's) beside it.
      const context = await h.browser.newContext({ viewport: { width: 1200, height: 900 } });
      const page = await context.newPage();
      await page.goto(h.url);
      await page.getByLabel('Login token').fill(h.token);
      await page.getByLabel('Login token').press('Enter');
      await page.getByRole('heading', { name: 'Zones' }).waitFor({ timeout: 120_000 });
      return page;
    },
  };
  beforeAll(async () => {
    mkdirSync(h.shots, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
  }, 60_000);
  // Runs before the environment's reset (hooks run in reverse order): the
  // portal's daemon is stopped and waited for; the reset then removes the zones.
  afterEach(async () => {
    const d = daemon;
    daemon = undefined;
    if (!d || d.exitCode !== null) return;
    const exited = new Promise((r) => d.once('exit', r));
    d.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
    if (d.exitCode === null) d.kill('SIGKILL');
  });
  afterAll(async () => {
    await browser?.close();
  });
  return h;
}

/** A zone's row in the list. */
export const row = (page: Page, name: string) => page.locator(`tr[data-zone="${name}"]`);

/** What the page's terminal shows. */
export const terminal = (page: Page) => page.locator('#terminal .xterm-rows').innerText();

/** A page on a narrow window (a phone's width) needs no sideways scrolling: its tables are cards. */
export async function fitsNarrow(page: Page): Promise<void> {
  const size = page.viewportSize()!;
  await page.setViewportSize({ width: 420, height: 900 });
  await expect.poll(() => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
  await page.setViewportSize(size);
}

/** A zone page's plots have drawn this many samples each (one sample says little in a screenshot). */
export async function plotted(page: Page, samples: number): Promise<void> {
  await expect
    .poll(() => page.locator('figure.plot').evaluateAll((figs) => Math.min(...figs.map((f) => Number((f as HTMLElement).dataset.samples ?? 0)))), { timeout: 60_000 })
    .toBeGreaterThanOrEqual(samples);
}

/**
 * `lxzone ARGS` that must succeed (its stdout), given two minutes: on a
 * loaded host a first boot also starts the daemon and LXCFS, past runCli's
 * default 30 s.
 */
export function cliOk(env: LifecycleEnv): (args: string[]) => Promise<string> {
  return async (args) => {
    const r = await env.cli(args, { timeoutMs: 120_000 });
    if (r.code !== 0) throw new Error(`lxzone ${args.join(' ')} exited ${r.code ?? r.signal}: ${r.stderr}`);
    return r.stdout;
  };
}
