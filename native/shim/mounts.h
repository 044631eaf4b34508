// The zone's filesystem: built by the zone's first process while it is still
// host root in a fresh mount namespace, so that the user namespace created
// afterwards finds every mount locked (flags it cannot change, masks it
// cannot lift).
#pragma once
#include "config.h"
#include "../common/result.h"

namespace lxz {

// Builds the mount tree and pivots into it. On return "/" is the zone's root.
Status build_zone_filesystem(const ShimConfig& config);

// A system zone's cgroup tree at /sys/fs/cgroup, for its init (systemd's
// CONTAINER_INTERFACE): cgroup2 mounted from inside the zone's user and
// cgroup namespaces (the latter the zone's own), so its root is the cgroup the
// host delegated to the zone (chowned to the zone's root,
// src/zone/cgroups/delegate.ts) and nothing above it shows.
Status mount_zone_cgroup2();

}  // namespace lxz
