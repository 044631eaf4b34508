// The mounts a zone is given: binds of host paths (its volumes, and the
// files of its own /proc view) and tmpfs mounts, each over a path resolved
// inside the zone's root; a missing target is made (mount_targets.h).
#pragma once
#include <string>

#include "../config.h"
#include "../../common/result.h"

namespace lxz {

// Binds a host path (reached with no symlink at all) over a path of the zone;
// id-mapped through `idmap_userns` when it is not -1 (a volume: bind_volume_userns).
Status bind_into_root(const std::string& root, const std::string& host_path, const std::string& zone_path,
                      bool readonly, bool recursive, int idmap_userns = -1);

// A tmpfs of the zone's config (--tmpfs, an OCI tmpfs mount), owned by the zone's root.
Status tmpfs_into_root(const std::string& root, const TmpfsMount& t, const ShimConfig& c);

// Every bind of the config, in its order; id-mapped volumes through one
// user namespace of the zone's id map.
Status bind_zone_volumes(const std::string& root, const ShimConfig& c);

}  // namespace lxz
