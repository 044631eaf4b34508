// The zone's first process: joins the namespaces the zone's user namespace
// owns, builds the zone from inside (as host root, in its new pid and mount
// namespaces), becomes the zone's root in its user namespace, installs the
// filter and execs the binary (under the init reaper by default).
#pragma once
#include <string>
#include "config.h"
#include "zone_namespaces.h"

namespace lxz {

struct ZoneProcessArgs {
  const ShimConfig* config;
  const std::string* filter;  // struct sock_filter[] bytes
  int sync_fd;                // SEQPACKET to the keeper
  const ZoneNamespaces* namespaces;  // made by the keeper (zone_namespaces.h)
};

// Never returns: execs the binary or _exits after reporting why not.
[[noreturn]] void zone_process_main(const ZoneProcessArgs& args);

}  // namespace lxz
