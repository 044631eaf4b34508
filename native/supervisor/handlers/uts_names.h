// The names in a notified process's UTS namespace. A zone's UTS namespace is
// owned by its user namespace, so its root may change them (sethostname,
// setdomainname); uname(2), which lxzone emulates, must then report them.
#pragma once
#include <sys/types.h>
#include <cstdint>
#include <string>

namespace lxz {

// Reads the nodename and domainname the caller's UTS namespace holds: this
// thread joins it for one uname(2) and returns to its own. False (outputs
// untouched) when that is not possible (a rootless supervisor holds no
// capability over the zone's namespace) or the call is no longer pending.
bool read_uts_names(int listener, uint64_t id, pid_t pid, std::string* nodename, std::string* domainname);

}  // namespace lxz
