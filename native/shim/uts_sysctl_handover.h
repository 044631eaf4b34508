// The keeper's side of the zone's /proc/sys/kernel/hostname and domainname
// (uts_sysctl_server.h): the two files are made before the zone process is
// cloned, polled by the keeper's supervision loop until the zone first asks
// something of them, then handed over to lxzone-utsfs, forked only then
// (most zones never ask), and ended with the zone. Never a reason to fail
// the zone: without them the files are the kernel's, readable and refused to
// the zone's writes (EACCES).
#pragma once
#include <poll.h>

#include <vector>

#include "config.h"
#include "uts_sysctl_server.h"
#include "zone_namespaces.h"

namespace lxz {

class UtsSysctlHandover {
 public:
  // Once the zone's namespaces exist and before the zone process is cloned
  // (the mounts are the zone process's to place). A failure is said on
  // stderr, except a host whose /dev/fuse the keeper may not open (a
  // rootless zone where it is root's alone): nothing to say there.
  void prepare(const ShimConfig& c, const ZoneNamespaces& ns);
  // After the clone: the keeper's copies of the mounts go.
  void release_mounts() { server_.release_mounts(); }

  // The fds to poll this round (the files, until handed over), appended to
  // `fds`; then handle() with the same vector.
  void add_pollfds(std::vector<struct pollfd>& fds);
  void handle(const std::vector<struct pollfd>& fds);

  // The zone is gone. kill() first lets the server's teardown overlap the
  // keeper's own (keeper.cc, hold_build_namespace); stop() kills and reaps.
  void kill() { server_.kill(); }
  void stop() { server_.stop(); }

 private:
  void serve();

  UtsSysctlServer server_;
  size_t first_ = 0;  // index of our first pollfd this round
};

}  // namespace lxz
