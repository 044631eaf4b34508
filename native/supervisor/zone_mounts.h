// Mounts the supervisor makes inside a zone on the zone's behalf (a loop
// device's backing file bound over its /dev/loopN node). A supervisor thread
// shares its filesystem context with the whole Node process and cannot enter
// a mount namespace, so each change is made by a short-lived child that joins
// the caller's user namespace and then its mount namespace: it acts with the
// zone's privileges there and with nothing of the host's.
#pragma once
#include "../common/fd.h"

namespace lxz {

// The user and mount namespaces of a notified caller (opened from
// /proc/PID/ns while its notification was pending).
struct CallerNamespaces {
  Fd user;
  Fd mnt;
};

// Binds the file behind `file_fd` (any fd of the caller's, taken with
// pidfd_getfd) over the node `target_fd` (O_PATH, reached through the
// caller's root), nosuid, nodev, noexec, and read-only when asked.
// 0 or an errno.
int bind_file_in_zone(const CallerNamespaces& ns, int file_fd, int target_fd, bool read_only);

// Detaches the mount stacked on `name` in the directory `dir_fd` (O_PATH,
// reached through the caller's root; "." with the mount's root itself).
// 0 or an errno.
int unmount_in_zone(const CallerNamespaces& ns, int dir_fd, const char* name);

}  // namespace lxz
