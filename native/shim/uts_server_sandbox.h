// What lxzone-utsfs (uts_sysctl_server.h) shuts itself in before it reads
// the zone's first request: the requests are the zone's writes, and the
// server holds CAP_SYS_ADMIN over the zone's user namespace, so it is
// treated as taken over once it serves.
#pragma once
#include <cstdint>
#include <vector>

#include "../common/result.h"

namespace lxz {

// The zone's root in the zone's user namespace (`user_ns`; no capability of
// the host's), in a mount namespace of its own whose root is an empty
// read-only tmpfs and which holds nothing else, with CAP_SYS_ADMIN and
// CAP_SYS_PTRACE alone, for good, under no_new_privs.
Status enter_uts_server_sandbox(int user_ns);

// The uts-server profile (the config's uts-server-filter), the set-up's last
// step: only the serving loop's calls from here on.
Status install_uts_server_filter(const std::vector<uint8_t>& bytes);

}  // namespace lxz
