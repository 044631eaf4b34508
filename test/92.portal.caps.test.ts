// A cap updated in the web portal reaches the zone, in a real browser
// (Debian's chromium through playwright-core) against a real daemon and a
// real zone with LXCFS on (its /proc/meminfo follows its memory cap, as on a
// host that has LXCFS): a shell in the page's terminal reads the zone's
// /proc/meminfo before and after a memory cap set in the page's cap form;
// the cap reaches the zone's cgroup (lxzone stats), its plot and its
// configuration; a cap the CLI changes shows in the open page.
import { describe, expect, it } from 'vitest';
import { useLifecycleEnv } from './support/lifecycle-env.js';
import { cliOk, eventually, row, terminal, TEST_MS, usePortal } from './support/portal.js';

const env = useLifecycleEnv(42, { procview: true });
const ok = cliOk(env);
const portal = usePortal(env);
const MEMORY = 'Memory (MiB, empty: no cap)';

describe('the portal: caps', () => {
  it("updates a zone's memory cap from the page: its cgroup, plot, configuration and /proc/meminfo follow", async () => {
    await portal.start();
    await ok(['create', 'capped', '--', '/bin/sleep', '600']);
    await ok(['boot', 'capped']);
    const p = await portal.loggedIn();
    await eventually(() => row(p, 'capped').innerText()).toContain('running');
    await p.getByRole('link', { name: 'capped' }).click();
    await p.getByRole('heading', { name: 'Zone capped' }).waitFor();
    await p.getByRole('button', { name: 'Open a shell' }).click();
    await p.getByText('Connected to capped.').waitFor();
    await p.locator('#terminal').click();
    await p.keyboard.type('grep MemTotal /proc/meminfo\n');
    await eventually(() => terminal(p)).toMatch(/MemTotal:\s+\d+ kB/);
    expect(await terminal(p)).not.toMatch(/MemTotal:\s+98304 kB/);

    // 96 MiB set in the page: the cgroup, the plot and the configuration, then
    // the zone's own /proc/meminfo in the shell that stayed open.
    await p.getByLabel(MEMORY).fill('96');
    await p.getByRole('button', { name: 'Update caps' }).click();
    await eventually(async () => JSON.parse(await ok(['stats', 'capped', '--json', '--interval', '0'])).memory.max).toBe(96 * 1024 * 1024);
    await eventually(() => p.locator('figure.plot').first().innerText()).toContain('of 96.0 MiB');
    await eventually(() => p.locator('pre.config').innerText()).toContain(String(96 * 1024 * 1024));
    await p.locator('#terminal').click();
    await p.keyboard.type('clear; grep MemTotal /proc/meminfo\n');
    await eventually(() => terminal(p)).toMatch(/MemTotal:\s+98304 kB/);

    // A cap changed with the CLI shows in the open page (its form and configuration).
    await ok(['update', 'capped', '--memory', '128m']);
    await eventually(() => p.getByLabel(MEMORY).inputValue()).toBe('128');
    await eventually(() => p.locator('pre.config').innerText()).toContain(String(128 * 1024 * 1024));
    await p.context().close();
  }, TEST_MS);
});
