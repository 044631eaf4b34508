// The zone's /dev: a small tmpfs of host device binds, its own loop nodes,
// devpts, shm and mqueue, read-only once the targets under it are made.
#pragma once
#include <string>

#include "../config.h"
#include "../../common/result.h"

namespace lxz {

Status mount_dev(const std::string& root, const ShimConfig& c);

}  // namespace lxz
