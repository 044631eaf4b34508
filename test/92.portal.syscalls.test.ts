// The syscall coverage report in the web portal, in Debian's chromium
// (playwright-core) against a real daemon: per ABI and profile, filtered by
// name, readable on a narrow window (no sideways scrolling).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useLifecycleEnv } from './support/lifecycle-env.js';
import { eventually, fitsNarrow, TEST_MS, usePortal } from './support/portal.js';

const env = useLifecycleEnv(36);
const portal = usePortal(env);

describe('the portal: syscall coverage', () => {
  it('shows the syscall coverage report per ABI and profile, filterable', async () => {
    await portal.start();
    const p = await portal.loggedIn();
    await p.getByRole('link', { name: 'Syscall coverage' }).click();
    await p.locator('table.syscalls tbody tr').first().waitFor();
    await p.getByLabel('Search').fill('uname');
    await eventually(async () => {
      const rows = await p.locator('table.syscalls tbody tr').allInnerTexts();
      return rows.length > 0 && rows.every((r) => /uname/i.test(r));
    }).toBe(true);
    expect((await p.locator('table.syscalls tbody tr').allInnerTexts()).join('\n')).toContain('emulate:');
    await p.getByLabel('Profile').selectOption('strict');
    await eventually(() => p.locator('#sc-summary').innerText()).toContain('profile strict');
    await p.getByLabel('Search').fill('');
    await fitsNarrow(p);
    await p.setViewportSize({ width: 420, height: 900 });
    await p.screenshot({ path: join(portal.shots, 'syscalls-narrow.png') });
    await p.context().close();
  }, TEST_MS);
});
