// The web portal's browser tests (test/92.portal.*): `lxzone daemon --portal`
// started as a user starts it (its URL and token read from its stdout),
// Debian's chromium through playwright-core, a page logged in, and what the
// tests wait for on a page. Every hook is registered by usePortal.
//
// The files share one shape (92.portal.login, .live, .caps, .actions,
// .terminal, .refusals, .create, .events, .syscalls, .client-cert): each starts its own portal
// per test and waits for conditions, never for a time, with WAIT_MS on every
// wait: CI runs two files at once on two cores beside other work (load 20-30).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import type { ZoneInfo } from '../../src/zone/lifecycle/types.js';
import { waitFor, type LifecycleEnv } from './lifecycle-env.js';
import { repoRoot } from './zones.js';

export const CHROMIUM = '/usr/bin/chromium';

/** Every wait on a page or a zone: a boot, a pushed update, a terminal's output (a loaded host takes minutes, a quiet one seconds). */
export const WAIT_MS = 180_000;
/** A test's own limit: several such waits. */
export const TEST_MS = 600_000;

/** Polls until the assertion that follows holds (expect.poll with WAIT_MS, not its 1 s default). */
export const eventually = <T>(fn: () => T | Promise<T>) => expect.poll(fn, { timeout: WAIT_MS, interval: 250 });

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
  /** A browser context whose every action, navigation and wait has WAIT_MS. */
  newContext(o?: BrowserContextOptions): Promise<BrowserContext>;
  /** A page of its own context, logged in with the token (by keyboard: Enter submits). */
  loggedIn(): Promise<Page>;
}

/**
 * fixtures/portal/no-netlink.c built into `dir`: chromium with it preloaded
 * does not see the host's addresses come and go. Other test files add and
 * remove veths and bridges all the time, and each change failed the requests
 * chromium was connecting with net::ERR_NETWORK_CHANGED (under a loop of
 * veth changes, 25 of 36 page loads through playwright's client-certificate
 * proxy failed so; with it, none of 50).
 */
function noNetlink(dir: string): string {
  const so = join(dir, 'no-netlink.so');
  execFileSync('gcc', ['-shared', '-fPIC', '-O2', '-o', so, join(repoRoot, 'fixtures', 'portal', 'no-netlink.c'), '-ldl'], { stdio: 'pipe' });
  return so;
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
      // Its first start compiles the CLI's TypeScript (tsx): a minute or more on a loaded host.
      await waitFor(() => /login token \(shown once\): \S+/.test(out) || child.exitCode !== null, WAIT_MS);
      const m = /lxzone portal: (https?:\S+)\nlogin token \(shown once\): (\S+)/.exec(out);
      if (!m) throw new Error(`the daemon did not print its portal: ${out} ${h.log}`);
      h.url = m[1]!;
      h.token = m[2]!;
    },
    async newContext(o: BrowserContextOptions = {}): Promise<BrowserContext> {
      const context = await h.browser.newContext({ viewport: { width: 1200, height: 900 }, ...o });
      context.setDefaultTimeout(WAIT_MS);
      context.setDefaultNavigationTimeout(WAIT_MS);
      return context;
    },
    async loggedIn(): Promise<Page> {
      // A context of its own: a test may open another page (an attacker's) beside it.
      const page = await (await h.newContext()).newPage();
      await page.goto(h.url);
      await page.getByLabel('Login token').fill(h.token);
      await page.getByLabel('Login token').press('Enter');
      await page.getByRole('heading', { name: 'Zones' }).waitFor();
      return page;
    },
  };
  beforeAll(async () => {
    mkdirSync(h.shots, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu'],
      env: { ...process.env, LD_PRELOAD: noNetlink(env.base) },
      timeout: WAIT_MS,
    });
  }, WAIT_MS);
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
  }, WAIT_MS);
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
  await eventually(() => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
  await page.setViewportSize(size);
}

/** A zone page's plots have drawn this many samples each (one sample says little in a screenshot). */
export async function plotted(page: Page, samples: number): Promise<void> {
  await eventually(() => page.locator('figure.plot').evaluateAll((figs) => Math.min(...figs.map((f) => Number((f as HTMLElement).dataset.samples ?? 0))))).toBeGreaterThanOrEqual(samples);
}

/**
 * `lxzone ARGS` that must succeed (its stdout), given WAIT_MS: on a loaded
 * host a first boot also starts the daemon and LXCFS, past runCli's default 30 s.
 */
export function cliOk(env: LifecycleEnv): (args: string[]) => Promise<string> {
  return async (args) => {
    const r = await env.cli(args, { timeoutMs: WAIT_MS });
    if (r.code !== 0) throw new Error(`lxzone ${args.join(' ')} exited ${r.code ?? r.signal}: ${r.stderr}`);
    return r.stdout;
  };
}

/** `lxzone list --json` through cliOk: every zone as the CLI sees it. */
export function zoneList(ok: (args: string[]) => Promise<string>): () => Promise<ZoneInfo[]> {
  return async () => JSON.parse(await ok(['list', '--json'])) as ZoneInfo[];
}
