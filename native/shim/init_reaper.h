// The zone's pid 1 when `init` is on: forwards signals to the binary, reaps
// every orphan of the zone, and exits with the binary's status.
#pragma once
#include <sys/types.h>

namespace lxz {

[[noreturn]] void run_init_reaper(pid_t child, bool dumpable);

}  // namespace lxz
