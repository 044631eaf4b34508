// Whether the caller of a notified syscall holds a capability in the zone's
// own user namespace: what Linux asks of calls that act on state a zone owns
// (its pid namespace for reboot, its kernel log for syslog).
#pragma once
#include "handler.h"

namespace lxz {

// True when the caller's effective set has `cap` and the caller is in the
// zone's user namespace (not one nested in it, where it may hold every
// capability of that nested namespace and none of the zone's).
bool caller_has_zone_capability(const Call& call, int cap);

}  // namespace lxz
