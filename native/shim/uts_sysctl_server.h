// /proc/sys/kernel/hostname and domainname, writable by the zone's root.
//
// Linux registers the UTS sysctls without a per-namespace permission hook:
// proc_sys lets only uid 0 of the host's user namespace write them, so a
// zone's root, who may change its names with sethostname(2), gets EACCES
// there. lxzone serves the two files itself: a small FUSE file system of one
// file each, made by the keeper before the zone process is cloned and
// mounted over the two files by the zone process while it builds the zone's
// tree (uts_sysctl_files.h), answered by lxzone-utsfs, a child of the keeper
// forked when the zone first asks (uts_sysctl_handover.h), that holds the
// zone's root's privileges (its user namespace) and nothing of the host's
// (uts_server_sandbox.h). A read or write joins the UTS namespace of the
// calling thread (setns), so a process in a nested UTS namespace reads and
// writes its own names, as natively; a namespace the zone's user namespace
// does not own cannot be joined (EACCES) (uts_fuse_protocol.h).
// The server runs under a seccomp filter of its own (the uts-server profile,
// the config's uts-server-filter), installed after its set-up and before its
// first request; a config without one gets no server.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "../common/fd.h"
#include "../common/result.h"
#include "config.h"
#include "zone_namespaces.h"

namespace lxz {

class UtsSysctlServer {
 public:
  UtsSysctlServer() = default;
  UtsSysctlServer(const UtsSysctlServer&) = delete;
  UtsSysctlServer& operator=(const UtsSysctlServer&) = delete;
  ~UtsSysctlServer() { stop(); }

  // Keeper side, once the zone's namespaces exist and before the zone process
  // is cloned: makes the two file systems (uts_sysctl_files.h) and keeps what
  // a server would need. No server process yet: most zones never touch the
  // files, and one forked on every start (its set-up, its mount namespace's
  // teardown at the end) was ~10% of a zone's start to exit.
  Status prepare(const ShimConfig& c, const ZoneNamespaces& ns);
  // The keeper polls these (-1 once served): readable when the zone asks
  // something of a file.
  int awaited_fd(int i) const;
  // Keeper side, on the first request: forks the server in the zone's user
  // namespace, which takes the connections over. The request waits for it.
  Status serve();
  // Keeper side, after the clone: the keeper's copies of the mounts go.
  void release_mounts();
  // Ends it (the zone is gone): killed and reaped. kill() alone first lets
  // its teardown overlap the keeper's own (keeper.cc).
  void kill();
  void stop();

 private:
  pid_t pid_ = -1;
  Fd fuse_[2];  // until served
  Fd user_ns_, uts_ns_;
  uint32_t owner_ = 0;  // the files' owner (uts_sysctl_file_owner)
  const std::vector<uint8_t>* filter_ = nullptr;  // the config's uts-server-filter
};

}  // namespace lxz
