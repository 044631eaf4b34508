// The keeper: the shim's parent half. It starts the zone's first process in
// new namespaces, writes its id maps, hands the seccomp listener to the
// supervisor, forwards signals, and reports the zone's exit. It keeps a copy
// of the listener so a supervisor can re-attach after a restart.
#pragma once
#include <string>
#include "config.h"

namespace lxz {

struct KeeperArgs {
  const ShimConfig* config;
  const std::string* filter;
  int control_fd;  // SEQPACKET to the supervisor
};

// Returns the exit code for the shim: the zone's status as a shell reports it.
int run_keeper(const KeeperArgs& args);

}  // namespace lxz
