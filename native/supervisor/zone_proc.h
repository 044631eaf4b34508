// The zone's own procfs, held open by the supervisor: how sysinfo counts the
// zone's processes without resolving a path in the zone's filesystem later.
//
// It is opened once, from the zone's init (for a fresh zone before any zone
// code ran), with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS |
// RESOLVE_NO_MAGICLINKS) below the init's root, and kept only if it is a
// procfs whose pid 1 is in the init's pid namespace: a symlink, a chroot or
// a directory planted in its place is refused, never followed as host root.
#pragma once
#include <sys/types.h>
#include <cstdint>

#include "../common/fd.h"

namespace lxz {

// An O_RDONLY directory fd of the procfs of init_pid's pid namespace; invalid
// when it cannot be opened safely (the caller then reports a count of 1).
Fd open_zone_proc(pid_t init_pid);

// Numeric entries of that procfs (the zone's processes), at most `limit`:
// the work is bounded whatever the zone does.
unsigned count_zone_processes(int proc_dir, unsigned limit);

}  // namespace lxz
