// A zone's unsupported-syscall events on its page in the web portal, in
// Debian's chromium (playwright-core) against a real daemon and a real zone
// that asks for syscalls no kernel has: each comes back ENOSYS and is
// reported, newest first, with its number; the zone's tables are labelled
// cards on a narrow window (no sideways scrolling).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useLifecycleEnv } from './support/lifecycle-env.js';
import { cliOk, eventually, fitsNarrow, TEST_MS, usePortal } from './support/portal.js';

const env = useLifecycleEnv(37);
const ok = cliOk(env);
const portal = usePortal(env);

describe('the portal: unsupported-syscall events', () => {
  it("shows a zone's unsupported-syscall events, newest first, readable on a narrow window", async () => {
    // A zone that asks for syscalls no kernel has (1000, 1001): each comes back ENOSYS and is reported.
    await ok(['create', 'unsup', '--', '/usr/bin/python3', '-c', 'import ctypes, time; l = ctypes.CDLL(None); l.syscall(1000); l.syscall(1001); time.sleep(600)']);
    await ok(['boot', 'unsup']);
    await portal.start();
    const p = await portal.loggedIn();
    // The zone that asked for missing syscalls: its events, newest first, with their numbers.
    await p.goto(`${portal.url}#/zone/unsup`);
    await p.getByRole('heading', { name: 'Zone unsup' }).waitFor();
    const events = p.locator('#unsupported-events');
    await eventually(() => events.innerText()).toContain('#1001');
    const text = await events.innerText();
    expect(text).toContain('#1000');
    expect(text.indexOf('#1001')).toBeLessThan(text.indexOf('#1000'));
    await p.screenshot({ path: join(portal.shots, 'zone-events.png'), fullPage: true });
    // On a narrow window the zone's tables (counters, events) are labelled cards too.
    await fitsNarrow(p);
    await p.setViewportSize({ width: 420, height: 900 });
    await p.evaluate(() => document.getElementById('unsupported-events')?.scrollIntoView());
    await p.screenshot({ path: join(portal.shots, 'zone-events-narrow.png') });
    await p.context().close();
  }, TEST_MS);
});
