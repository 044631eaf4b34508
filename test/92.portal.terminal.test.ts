// The web portal's terminal into a zone (xterm.js over the portal's
// websocket, a pty in the zone), in a real browser (Debian's chromium
// through playwright-core) against a real daemon and a real zone: a command
// typed in runs in the zone (its processes, its hostname) and its output is
// read on the page; Ctrl-C interrupts a running command; the pty's size
// follows the window; the shell's exit is shown.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useLifecycleEnv } from './support/lifecycle-env.js';
import { cliOk, eventually, terminal, TEST_MS, usePortal, WAIT_MS } from './support/portal.js';

const env = useLifecycleEnv(39);
const ok = cliOk(env);
const portal = usePortal(env);

/** `stty size`'s answer on a cleared screen: rows and columns. */
const SIZE = /^(\d+) (\d+)\s*$/m;

describe('the portal: a terminal into a zone', () => {
  it('runs a command typed in and shows its output; Ctrl-C interrupts; the size follows the window', async () => {
    await portal.start();
    await ok(['create', 'shell', '--', '/bin/sleep', '600']);
    await ok(['boot', 'shell']);
    const p = await portal.loggedIn();
    await p.getByRole('link', { name: 'shell' }).click();
    await p.getByRole('button', { name: 'Open a shell' }).click();
    await p.getByText('Connected to shell.').waitFor();
    const screen = () => terminal(p);
    await p.locator('#terminal').click();
    // What the shell computes, not what it echoes of the typed line, is waited for.
    await p.keyboard.type('echo portal-$((6*7)); hostname\n');
    await eventually(screen).toMatch(/portal-42\s+shell/);
    // The command runs in the zone: its processes are the zone's (its sleep), in its pid namespace.
    await p.keyboard.type('for f in /proc/[0-9]*/cmdline; do tr "\\0" " " < $f; echo; done\n');
    await eventually(screen).toContain('/bin/sleep 600');

    // Ctrl-C once the command is running (it said so): the rest of its line never runs, the shell takes the next one.
    await p.keyboard.type('clear; echo started-$((2+3)); sleep 300; echo not-interrupted\n');
    await eventually(screen).toMatch(/^started-5\s*$/m);
    await p.keyboard.press('Control+C');
    await p.keyboard.type('echo after-$((1+1))\n');
    await eventually(screen).toMatch(/^after-2\s*$/m);
    // The command line shows the words; its output would be a line of its own.
    expect(await screen()).not.toMatch(/^not-interrupted\s*$/m);

    // The pty's size follows the window: asked again until the narrower window shows.
    await p.keyboard.type('clear; stty size\n');
    await eventually(screen).toMatch(SIZE);
    const before = SIZE.exec(await screen())![2];
    await p.setViewportSize({ width: 700, height: 900 });
    await expect
      .poll(
        async () => {
          await p.keyboard.type('clear; stty size\n');
          await eventually(screen).toMatch(SIZE);
          return SIZE.exec(await screen())?.[2];
        },
        { timeout: WAIT_MS, interval: 2_000 },
      )
      .not.toBe(before);
    await p.setViewportSize({ width: 1200, height: 900 });
    await p.keyboard.type('clear; echo hello from the portal; uname -n\n');
    await eventually(screen).toMatch(/^hello from the portal\s+shell\s*$/m);
    await p.locator('#terminal').scrollIntoViewIfNeeded();
    await p.screenshot({ path: join(portal.shots, 'terminal.png') });
    await p.keyboard.type('exit\n');
    await p.getByText('The shell exited (status 0).').waitFor();
    await p.context().close();
  }, TEST_MS);
});
