// The capabilities a zone's root keeps (Docker's default set, less NET_RAW and
// MKNOD, which a zone cannot use in a user namespace anyway).
#pragma once
#include "../common/result.h"

namespace lxz {

Status drop_capabilities_to_zone_set();

}  // namespace lxz
