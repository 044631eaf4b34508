// The copies of the host's mounts that the zone's root, a bind of the host's
// tree, brings along: detached where the zone gets fresh ones or must not
// see them.
#pragma once
#include <string>
#include <vector>

namespace lxz {

// Removes every mount stacked at or under `path` (host /proc, /sys, /dev, /run
// and /tmp, which a zone gets fresh copies of): MNT_DETACH takes what is
// below a mount along, so one call per mount stacked at `path`.
void detach_all(const std::string& path);

// Copies of host mounts the zone never sees, under `root`: below the host's
// /proc, /sys, /dev, /run and /tmp (the zone gets fresh ones over them) and
// below lxzone's hidden directories. Detached, not just covered: a covered
// copy keeps its filesystem alive for as long as the zone runs, and when
// that is another zone's disk, its offline growth at that zone's next boot
// waited for this zone to end (src/zone/cgroups/disk.ts). Rootless, copies
// are locked to their parents and stay (no zone disks without root).
void detach_unseen(const std::string& root, const std::vector<std::string>& hide);

}  // namespace lxz
