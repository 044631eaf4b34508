// The /etc/hosts of a zone on the host's root: its own name first.
#pragma once
#include <string>

#include "../config.h"
#include "../../common/result.h"

namespace lxz {

// A zone on the host's root reads the host's /etc/hosts, which names the
// host, not the zone: its own hostname would not resolve (sudo warns,
// `hostname -i` fails, Python's socket tests skip). The zone gets a copy
// with its name first (127.0.1.1, Debian's address for the machine's own
// name), then the host's entries, read-only (as the file it covers). A host
// file past 32 KiB, or none, is left as it is. A bind of /etc/hosts the zone
// is given (-v) comes later and wins.
Status zone_hosts_file(const std::string& root, const ShimConfig& c);

}  // namespace lxz
