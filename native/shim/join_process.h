// A process joining a running zone (lxzone exec): the zone's namespaces
// through a pidfd of its init, the zone's user, terminal and filter, then the
// binary as a child inside the zone's pid namespace.
#pragma once
#include "zone_process.h"

namespace lxz {

struct JoinProcessArgs {
  const ShimConfig* config;
  const std::string* filter;
  int sync_fd;
  int zone_pidfd;  // pidfd of a process of the zone (its init)
};

[[noreturn]] void join_process_main(const JoinProcessArgs& args);

}  // namespace lxz
