// /proc/sys/kernel/hostname and domainname, writable by the zone's root.
//
// Linux registers the UTS sysctls without a per-namespace permission hook:
// proc_sys lets only uid 0 of the host's user namespace write them, so a
// zone's root, who may change its names with sethostname(2), gets EACCES
// there. lxzone serves the two files itself: a small FUSE file system of one
// file each, mounted over them in the zone's mount namespace, answered by a
// child of the keeper that holds the zone's root's privileges (its user
// namespace) and nothing of the host's. A read or write joins the UTS
// namespace of the calling thread (setns), so a process in a nested UTS
// namespace reads and writes its own names, as natively; a namespace the
// zone's user namespace does not own cannot be joined (EACCES).
#pragma once
#include <sys/types.h>

#include "../common/result.h"
#include "config.h"

namespace lxz {

class UtsSysctlServer {
 public:
  UtsSysctlServer() = default;
  UtsSysctlServer(const UtsSysctlServer&) = delete;
  UtsSysctlServer& operator=(const UtsSysctlServer&) = delete;
  ~UtsSysctlServer() { stop(); }

  // Starts the server for the zone process `zone_pid`, which must already be
  // in its final user, mount and UTS namespaces; returns once both files are
  // mounted in the zone (or the server gave up, with the reason).
  Status start(const ShimConfig& c, pid_t zone_pid);
  // Ends it (the zone is gone): killed and reaped.
  void stop();

 private:
  pid_t pid_ = -1;
};

}  // namespace lxz
