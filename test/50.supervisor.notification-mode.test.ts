// The seccomp notification mode is asked of the kernel itself (lxzone-shim
// --probe-notification) and shown by `lxzone syscalls` and inspect: Debian
// 12's 6.1 has no SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (added in 6.6), and the
// fallback must be said, not silent. The stock 6.1 case runs in the Debian 12
// guest of `npm run test:vm`; here the probe must agree with this kernel.
import { release } from 'node:os';
import { describe, expect, it } from 'vitest';
import { notificationMode } from '../src/zone/notification-mode.js';
import { lxzoneInProcess as lxzone } from './support/cli-in-process.js';

function kernelHasSyncWakeup(): boolean {
  const [major, minor] = release().split(/[.-]/).map(Number);
  return major! > 6 || (major === 6 && minor! >= 6);
}

describe('notification mode', () => {
  it('is what this kernel offers (6.6+: sync-wakeup, before: plain)', () => {
    expect(notificationMode().mode).toBe(kernelHasSyncWakeup() ? 'sync-wakeup' : 'plain');
  });

  it('lxzone syscalls --json carries it, the table states it under its header', async () => {
    const mode = notificationMode().mode;
    const json = await lxzone('syscalls', '--json', '--disposition', 'emulate');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout).notification).toEqual({ mode, note: expect.stringContaining('SYNC_WAKE_UP') });
    const table = await lxzone('syscalls', '--disposition', 'emulate');
    expect(table.stdout.split('\n')[1]).toMatch(new RegExp(`^notification mode: ${mode} \\(`));
  });
});
