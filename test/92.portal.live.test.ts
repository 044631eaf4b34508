// The web portal's zone list follows what another process does, in a real
// browser (Debian's chromium through playwright-core) against a real daemon
// and real zones: `lxzone create`, boot and halt run by the CLI show in the
// open page without a reload (the keyboard focus kept), whether the portal's
// daemon serves the CLI too or serves the portal beside a daemon the CLI
// started on demand.
import { describe, expect, it } from 'vitest';
import { useLifecycleEnv } from './support/lifecycle-env.js';
import { cliOk, eventually, row, TEST_MS, usePortal, WAIT_MS } from './support/portal.js';

const env = useLifecycleEnv(41);
const ok = cliOk(env);
const portal = usePortal(env);

describe('the portal: the zone list, live', () => {
  it('shows a zone appear after lxzone create in another process, then boot and halt, without a reload', async () => {
    await portal.start();
    await ok(['create', 'first', '--', '/bin/sleep', '600']);
    const p = await portal.loggedIn();
    await row(p, 'first').waitFor();
    // Another process (the CLI) acts; the open page follows without a reload,
    // and a keyboard user's focus stays where it was in the list.
    await row(p, 'first').getByRole('link', { name: 'first' }).focus();
    await ok(['create', 'second', '--', '/bin/sleep', '600']);
    await row(p, 'second').waitFor();
    expect(await p.evaluate(() => document.activeElement?.textContent)).toBe('first');
    await ok(['boot', 'second']);
    await eventually(() => row(p, 'second').innerText()).toContain('running');
    await ok(['halt', 'second']);
    await eventually(() => row(p, 'second').innerText()).toContain('stopped');
    await p.context().close();
  }, TEST_MS);

  it('serves the portal beside a daemon the CLI started on demand, and follows it live', async () => {
    // The CLI's boot starts a daemon on demand; `daemon --portal` then serves the portal for it.
    await ok(['create', 'solo', '--', '/bin/sleep', '600']);
    await ok(['boot', 'solo']);
    await portal.start();
    expect(portal.log).toMatch(/another lxzone daemon already serves .*; serving the portal for it/);
    const p = await portal.loggedIn();
    await eventually(() => row(p, 'solo').innerText()).toContain('running');
    // Changes made through the other daemon reach the open page (pushed: the store's files changed).
    await ok(['halt', 'solo']);
    await eventually(() => row(p, 'solo').innerText()).toContain('stopped');
    await ok(['create', 'later', '--', '/bin/sleep', '600']);
    await row(p, 'later').waitFor({ timeout: WAIT_MS });
    await p.context().close();
  }, TEST_MS);
});
