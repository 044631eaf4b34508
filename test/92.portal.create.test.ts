// The web portal's create form and an image zone's page in Debian's chromium
// (playwright-core) against a real daemon and real zones: create from an
// image archive (with a disk cap) and from another zone's configuration as a
// template; the disk plot against its cap and the disk grown from the cap
// form; the log searched and downloaded. A zone's events: 92.portal.events.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useLifecycleEnv } from './support/lifecycle-env.js';
import { cliOk, eventually, plotted, row, TEST_MS, usePortal } from './support/portal.js';
import { makeBusyboxImage } from './support/zones.js';

const tmp: string[] = [];
const env = useLifecycleEnv(65, {
  afterReset: () => {
    for (const d of tmp.splice(0)) rmSync(d, { recursive: true, force: true });
  },
});
const ok = cliOk(env);
const portal = usePortal(env);

describe('the portal: create, an image zone\'s page', () => {
  it('creates zones from an image (with a disk cap) and from a template; disk plot and growth, log search and download', async () => {
    const archive = makeBusyboxImage(65, tmp);
    await portal.start();
    const p = await portal.loggedIn();

    // From an image, with a disk cap, booted at once; its command keeps a quoted word together.
    await p.getByLabel('Name', { exact: true }).fill('img');
    await p.getByLabel(/^Image archive on the host/).fill(archive);
    await p.getByLabel(/^Command/).fill(`/bin/sh -c 'i=0; while true; do i=$((i+1)); echo alpha-$i; echo beta-$i; sleep 1; done'`);
    await p.getByLabel(/^Disk cap/).fill('64');
    await p.getByRole('button', { name: 'Create' }).click();
    await eventually(() => row(p, 'img').innerText()).toContain('running');
    const img = JSON.parse(await ok(['inspect', 'img']));
    // An archive goes through the image store (as lxzone create --image FILE).
    expect(img.config.rootfs.type).toBe('store');
    expect(img.config.resources.diskBytes).toBe(64 * 1024 * 1024);

    // From a template: the configuration of img, its own name, not booted.
    await p.getByLabel('Name', { exact: true }).fill('img2');
    await p.getByLabel('Or copy the configuration of').selectOption('img');
    await p.getByLabel('Boot it now').uncheck();
    await p.getByRole('button', { name: 'Create' }).click();
    await eventually(() => row(p, 'img2').innerText()).toContain('stopped');
    const img2 = JSON.parse(await ok(['inspect', 'img2']));
    expect(img2.config.command).toEqual(img.config.command);
    expect(img2.config.resources.diskBytes).toBe(64 * 1024 * 1024);

    // The image zone's page: its disk against its cap; the log searched and downloaded.
    await p.getByRole('link', { name: 'img', exact: true }).click();
    await p.getByRole('heading', { name: 'Zone img' }).waitFor();
    const diskPlot = p.locator('figure.plot', { hasText: 'Disk' });
    await eventually(() => diskPlot.innerText()).toContain('of 64.0 MiB');
    // The disk grows from the cap form (lxzone update --disk); the plot's cap follows.
    await p.getByLabel(/^Disk \(MiB/).fill('96');
    await p.getByRole('button', { name: 'Update caps' }).click();
    await eventually(() => p.locator('#status').innerText()).toMatch(/caps of img updated; zone img: its disk (grew|grows)/);
    expect(JSON.parse(await ok(['inspect', 'img'])).config.resources.diskBytes).toBe(96 * 1024 * 1024);
    await eventually(() => diskPlot.innerText()).toContain('of 96.0 MiB');
    await eventually(() => p.locator('#log').innerText()).toMatch(/beta-2\b/);
    await p.getByLabel('Search').fill('beta');
    const shown = (await p.locator('#log').innerText()).split('\n').filter(Boolean);
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.every((l) => l.includes('beta'))).toBe(true);
    const [download] = await Promise.all([p.waitForEvent('download'), p.getByRole('link', { name: 'Download' }).click()]);
    expect(download.suggestedFilename()).toBe('img.log');
    const saved = readFileSync((await download.path())!, 'utf8');
    expect(saved).toMatch(/^alpha-1$/m);
    expect(saved).toMatch(/^beta-1$/m);
    await p.getByLabel('Search').fill('');
    await plotted(p, 4);
    await p.screenshot({ path: join(portal.shots, 'zone.png'), fullPage: true });
    await p.context().close();
  }, TEST_MS);
});
