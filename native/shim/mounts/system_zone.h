// What a system zone's init (systemd) looks for beyond what every zone has;
// its cgroup tree is mount_zone_cgroup2 (../mounts.h), mounted later, from
// inside the zone's namespaces.
#pragma once
#include <string>

#include "../config.h"
#include "../../common/result.h"

namespace lxz {

// What systemd as a zone's pid 1 looks for (systemd's CONTAINER_INTERFACE),
// besides its cgroup tree (mount_zone_cgroup2): /run/systemd/container naming
// the manager, owned by the zone's root like the rest of its /run.
Status mount_system_zone_parts(const std::string& root, const ShimConfig& c);

}  // namespace lxz
