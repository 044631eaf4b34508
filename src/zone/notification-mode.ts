// How this kernel wakes a supervisor for a notified syscall. With
// SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (Linux 6.6+) the supervisor thread runs
// on the CPU of the zone thread that waits for it; without it (Debian 12's
// 6.1) the supervisor sets nothing and each wake-up goes through the
// scheduler, which makes every notified syscall slower. Asked once per
// process of the kernel itself (lxzone-shim --probe-notification installs an
// allow-all filter with a listener and tries the flag), so what `lxzone
// syscalls`, `inspect` and the bench report is what the supervisor gets.
import { spawnSync } from 'node:child_process';
import { LxzoneError } from '../errors.js';
import { shimPath } from '../native.js';

export type NotificationMode = 'sync-wakeup' | 'plain';

export interface NotificationInfo {
  mode: NotificationMode;
  /** What the mode means, for people. */
  note: string;
}

const NOTES: Record<NotificationMode, string> = {
  'sync-wakeup': 'SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP: the supervisor is woken on the waiting CPU (Linux 6.6+)',
  plain: 'this kernel has no SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (before Linux 6.6): notified syscalls wait for an ordinary scheduler wake-up, which is slower',
};

let cached: NotificationInfo | undefined;

export function notificationMode(): NotificationInfo {
  if (cached) return cached;
  const r = spawnSync(shimPath(), ['--probe-notification'], { encoding: 'utf8', timeout: 10_000 });
  const out = r.stdout?.trim();
  if (r.status !== 0 || (out !== 'sync-wakeup' && out !== 'plain')) {
    throw new LxzoneError(`cannot tell the seccomp notification mode: ${r.error?.message ?? (r.stderr?.trim() || `lxzone-shim exited ${r.status}`)}`);
  }
  cached = { mode: out, note: NOTES[out] };
  return cached;
}
