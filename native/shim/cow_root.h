// A copy-on-write host root: the host's root filesystem, id-mapped onto the
// zone's ids, as the lower layer of an overlay whose upper layer is the
// zone's (a directory of its disk, kept; or a tmpfs, gone with the zone).
#pragma once
#include <string>

#include "config.h"
#include "../common/result.h"

namespace lxz {

// Mounts the overlay on `root` (an empty directory of the scratch root) with
// `host_root` (where the host's tree is reachable) as its lower layer, then
// binds the host's other filesystems read-only as a read-only zone sees them.
Status mount_cow_root(const ShimConfig& config, const std::string& host_root, const std::string& root);

}  // namespace lxz
