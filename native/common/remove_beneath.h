// Removing a tree whose content a zone wrote (a volume's data): every step
// is relative to a directory fd already open, nothing is ever resolved
// through a symlink (O_NOFOLLOW, unlinkat), so a link the zone planted, or
// swapped in while the removal runs, is removed as a link and never followed.
#pragma once
#include <string>

#include "result.h"

namespace lxz {

// Removes `name` (one path component) from the directory `parent` (opened
// with no symlink on the way): a file or link is unlinked, a directory
// emptied depth-first through fds and removed. Missing: nothing to do.
Status remove_beneath(const std::string& parent, const std::string& name);

}  // namespace lxz
