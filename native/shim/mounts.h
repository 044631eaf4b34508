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

}  // namespace lxz
