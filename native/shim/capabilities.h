// The capabilities a zone's root keeps (Docker's default set, less NET_RAW and
// MKNOD, which a zone cannot use in a user namespace anyway).
#pragma once
#include "../common/result.h"

namespace lxz {

// `system`: a system zone's init also keeps CAP_SYS_ADMIN (capabilities.cc says why).
Status drop_capabilities_to_zone_set(bool system);

}  // namespace lxz
