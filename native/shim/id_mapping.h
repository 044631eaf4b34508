// User namespaces held only as an fd, for MOUNT_ATTR_IDMAP: what an
// id-mapped mount of the host's root, an image's layers or an OCI bundle's
// rootfs takes to show host files as owned by the zone's ids.
#pragma once
#include <string>

#include "config.h"
#include "../common/result.h"

namespace lxz {

// "0 ID_BASE ID_COUNT\n": ids 0..count-1 onto the zone's host range. A file
// owned by host uid N then shows as the zone's uid N.
std::string zone_id_map(const ShimConfig& c);

// A new user namespace with these uid_map/gid_map contents (as host root
// writes them), its fd in *out. `host_proc` is where the host's /proc is
// reachable (the zone's pid namespace would name the helper wrongly).
Status idmap_userns(const std::string& host_proc, const std::string& uid_map, const std::string& gid_map, int* out);

}  // namespace lxz
