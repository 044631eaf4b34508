// The names in a notified process's UTS namespace. A zone's UTS namespace is
// owned by its user namespace, so its root may change them (sethostname,
// setdomainname); uname(2), which lxzone emulates, must then report them.
#pragma once
#include <sys/types.h>
#include <cstddef>
#include <cstdint>

namespace lxz {

// Reads the nodename and domainname the caller's UTS namespace holds: this
// thread joins it (and stays: uts_names.cc says why) for one uname(2). False
// (outputs untouched) when that is not possible (a rootless supervisor holds
// no capability over the zone's namespace) or the call is no longer pending.
// *alive is set when the caller was proven alive, its pid still its own, at
// the join: a write to it right after needs no ID_VALID check of its own.
constexpr size_t kUtsField = 65;  // __NEW_UTS_LEN + 1, the same on every ABI
bool read_uts_names(int listener, uint64_t id, pid_t pid, char* nodename, char* domainname, bool* alive);

}  // namespace lxz
