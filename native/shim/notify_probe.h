// Which notification mode this kernel gives a supervisor: with
// SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (Linux 6.6+) the supervisor thread is
// woken synchronously on the notifying CPU; without it (Debian 12's 6.1) the
// wake-up goes through the scheduler, which costs a notified syscall more.
#pragma once

namespace lxz {

// Installs an allow-all filter with a listener on this (single-threaded,
// about to exit) process and asks the listener for the flag. Prints
// "sync-wakeup" or "plain" on stdout; returns the process exit status.
int probe_notification_mode();

}  // namespace lxz
