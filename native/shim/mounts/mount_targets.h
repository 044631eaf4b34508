// Mount destinations the zone's root lacks, made inside it (never through a
// symlink of the image), as runc makes them.
#pragma once
#include <cstdint>
#include <string>

#include "../config.h"
#include "../../common/result.h"

namespace lxz {

// Who the targets are created as from now on: host root (0, the default),
// or, on an id-mapped OCI rootfs, the zone's root (rootfs_idmap.h).
void set_mount_targets_owner(uint32_t id);

// Creates a missing mount target, inside the zone's root: a directory (or an
// empty file for a file source) whose parents are made too. Only possible
// where the zone's root is writable: its /tmp, /run, a tmpfs, a writable root.
Status make_target_in_root(const std::string& root, const std::string& zone_path, bool directory);

// The destinations of the zone's tmpfs mounts and binds that its root lacks
// (a bind of a file gets an empty file).
// Targets under /dev are made in the zone's own /dev (make_dev_targets), not in the root.
Status make_mount_targets(const std::string& root, const ShimConfig& c);

// The targets of binds and tmpfs mounts under /dev (Kubernetes binds the
// termination log at /dev/termination-log in every container), made in the
// zone's /dev tmpfs before it turns read-only; they are mounted with the
// others, after the zone's /dev (which would otherwise cover them).
Status make_dev_targets(const std::string& root, const ShimConfig& c);

}  // namespace lxz
