// Actions from the web portal act through the API the CLI uses, in a real
// browser (Debian's chromium through playwright-core) against a real daemon
// and real zones: boot from the list; halt and reboot from a zone's page ask
// first and, accepted, act (a CLI boot then shows in the open page); destroy
// asks first: dismissed, nothing happens; accepted, the zone is gone.
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { useLifecycleEnv } from './support/lifecycle-env.js';
import { cliOk, eventually, row, TEST_MS, usePortal, zoneList } from './support/portal.js';

const env = useLifecycleEnv(43);
const ok = cliOk(env);
const list = zoneList(ok);
const portal = usePortal(env);

const zone = async (name: string) => (await list()).find((z) => z.name === name);
/** The page's next confirmation is answered so. */
const confirmNext = (p: Page, accept: boolean) => p.once('dialog', (d) => void (accept ? d.accept() : d.dismiss()));

describe('the portal: actions', () => {
  it('boots from the list; halt and reboot ask first, then act; destroy asks first: dismissed nothing, accepted gone', async () => {
    await portal.start();
    await ok(['create', 'acted', '--', '/bin/sleep', '600']);
    await ok(['create', 'doomed', '--', '/bin/sleep', '600']);
    const p = await portal.loggedIn();
    await row(p, 'acted').getByRole('button', { name: 'Boot acted' }).click();
    await eventually(() => row(p, 'acted').innerText()).toContain('running');
    expect((await zone('acted'))?.state).toBe('running');

    // Halt and reboot ask first; accepted, they act. A CLI boot shows in the open page.
    await p.getByRole('link', { name: 'acted' }).click();
    await p.getByRole('heading', { name: 'Zone acted' }).waitFor();
    await p.getByRole('heading', { name: 'Usage against caps' }).waitFor();
    confirmNext(p, true);
    await p.getByRole('button', { name: 'Halt acted' }).click();
    await p.getByText('The zone is not running: no usage figures.').waitFor();
    expect((await zone('acted'))?.state).toBe('stopped');
    await ok(['boot', 'acted']);
    await p.getByRole('heading', { name: 'Usage against caps' }).waitFor();
    const started = (await zone('acted'))!.startedAt;
    confirmNext(p, true);
    await p.getByRole('button', { name: 'Reboot acted' }).click();
    await eventually(async () => (await zone('acted'))?.startedAt).not.toBe(started);
    await eventually(async () => (await zone('acted'))?.state).toBe('running');

    // Destroy asks first: dismissed, nothing is sent; accepted, the zone is gone from the list.
    await p.getByRole('link', { name: '← All zones' }).click();
    const deletes: string[] = [];
    p.on('request', (r) => {
      if (r.method() === 'DELETE') deletes.push(r.url());
    });
    const dismissed = new Promise<void>((r) => p.once('dialog', (d) => void d.dismiss().then(() => r())));
    await row(p, 'doomed').getByRole('button', { name: 'Destroy doomed' }).click();
    await dismissed;
    expect(await p.locator('#status').innerText()).not.toContain('destroy doomed');
    confirmNext(p, true);
    await row(p, 'doomed').getByRole('button', { name: 'Destroy doomed' }).click();
    await row(p, 'doomed').waitFor({ state: 'detached' });
    expect((await list()).map((z) => z.name)).not.toContain('doomed');
    // One request in all: the accepted one (a dismissed confirmation that still sent would be a second).
    expect(deletes).toEqual([`${portal.url}api/zones/doomed`]);
    await p.context().close();
  }, TEST_MS);
});
