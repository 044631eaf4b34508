// The zone's own /proc and /sys, with Docker's masked and read-only paths,
// and the unmasked instances of both that nested namespaces need.
#pragma once
#include <string>

#include "../../common/result.h"

namespace lxz {

// proc at `root`/proc, host-describing files masked, host-global knobs read-only.
Status mount_proc(const std::string& root);

// sysfs, read-only, at `root`/sys (where the root has one), firmware and
// security directories masked.
Status mount_sys(const std::string& root);

// The kernel lets a user namespace mount proc or sysfs only where a view of
// it is already fully visible in the mount namespace (mount_too_revealing):
// the zone's own are not, their masks being locked mounts over files and
// full directories. So one unmasked instance of each is mounted where no
// path reaches it: on a tmpfs that the zone's /dev then covers (a locked
// mount). Nested namespaces (bwrap, unshare --mount-proc, containers) can
// then mount proc for their pid namespace and sysfs (read-only, as this one
// is) for their network namespace. What such a mount shows that the zone's
// masks hide is information, not control: the files that act on the host
// (sysrq-trigger, host-global sysctls, kcore, ...) are the host root's, whom
// the zone's root is not, and the kernel checks that (docs/security.md).
// mount_dev places them, before the zone's /dev tmpfs covers `dev`.
Status mount_unmasked_views(const std::string& dev);

}  // namespace lxz
