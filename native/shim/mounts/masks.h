// What of the zone's root must not show or be written: lxzone's own
// directories hidden, the paths a config masks (OCI maskedPaths, a
// copy-on-write zone's host-only files) covered, its read-only paths (OCI
// readonlyPaths) made read-only where they are.
#pragma once
#include <string>

#include "../config.h"
#include "../../common/result.h"

namespace lxz {

// Masks a directory of the zone with an empty read-only tmpfs (mode 0): what
// lxzone keeps there (every zone's config and logs) must not show in a zone,
// and a rootless zone runs as the very uid that owns it. Missing: nothing to hide.
Status hide_in_root(const std::string& root, const std::string& zone_path);

// Hides a path of the zone: a file behind /dev/null (reads as empty), a
// directory behind an empty tmpfs of the zone's own, capped like /tmp (a
// copy-on-write zone's root owns the host's files in its view, so what only
// the host's root may read is not shown at all; programs may still write
// their logs or homes there).
Status mask_in_root(const std::string& root, const std::string& zone_path, const ShimConfig& c);

// Makes a path of the zone read-only where it is, as runc does an OCI
// readonlyPath: a recursive bind of itself whose top mount is then made
// read-only, its other flags kept (runc's remount is not recursive: a mount
// under the path keeps its own flags). A path that does not exist is
// skipped (runc's rule); one that leads nowhere (a symlink loop) is an
// error. Locked, like every mount, once the zone's user namespace owns it.
Status readonly_in_root(const std::string& root, const std::string& zone_path);

}  // namespace lxz
