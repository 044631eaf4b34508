// The capabilities a zone's root keeps in its user namespace: Docker's default
// set less MKNOD, plus those scoped to the namespaces the zone owns
// (capabilities.cc says which and why).
#pragma once
#include "../common/result.h"

namespace lxz {

Status drop_capabilities_to_zone_set();

}  // namespace lxz
