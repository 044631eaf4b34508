// The zone's own clock of time since boot: a time namespace whose boottime
// clock starts at zero when the zone starts, so /proc/uptime, sysinfo(2) and
// CLOCK_BOOTTIME in the zone count from the zone's boot, as on a machine of
// its own. The realtime clock stays the host's (no namespace offsets it).
#pragma once
#include "../common/result.h"

namespace lxz {

/**
 * Called by the keeper before it clones the zone's first process: the
 * keeper's children (only them; the keeper stays where it is) are born into
 * a new time namespace whose boottime offset makes the clock read zero now.
 * Needs CAP_SYS_ADMIN and CAP_SYS_TIME where the keeper runs: as root, or
 * (rootless) in the user namespace the keeper entered first.
 */
Status new_time_namespace_for_children();

}  // namespace lxz
