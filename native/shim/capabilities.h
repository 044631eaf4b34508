// The capabilities a zone's root keeps in its user namespace: Docker's default
// set less MKNOD, plus those scoped to the namespaces the zone owns
// (capabilities.cc says which and why).
#pragma once
#include "../common/result.h"
#include "config.h"

namespace lxz {

// The zone's capability set as effective and permitted; the bounding set is
// the zone's, or with `want` its bounding set within the zone's.
Status drop_capabilities_to_zone_set(const CapSets* want = nullptr);

// After the switch to the zone's user (PR_SET_KEEPCAPS kept the permitted
// set): the sets again (a uid change clears the effective one) and the
// ambient set, so a non-root process keeps what its config grants it.
Status finish_capabilities(const CapSets& want);

}  // namespace lxz
