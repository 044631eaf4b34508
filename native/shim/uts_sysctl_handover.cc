#include "uts_sysctl_handover.h"

#include <cerrno>
#include <string>

#include "shim_log.h"

namespace lxz {

void UtsSysctlHandover::prepare(const ShimConfig& c, const ZoneNamespaces& ns) {
  Status s = server_.prepare(c, ns);
  if (s.ok()) return;
  int err = s.error().err;
  if ((err == EACCES || err == EPERM || err == ENOENT || err == ENODEV) && s.error().what.rfind("open /dev/fuse", 0) == 0) return;
  log_error("/proc/sys/kernel/hostname stays read-only in the zone: " + s.error().message());
}

void UtsSysctlHandover::add_pollfds(std::vector<struct pollfd>& fds) {
  first_ = fds.size();
  for (int i = 0; i < 2; i++) fds.push_back({server_.awaited_fd(i), POLLIN, 0});
}

void UtsSysctlHandover::handle(const std::vector<struct pollfd>& fds) {
  short revents = fds[first_].revents | fds[first_ + 1].revents;
  if (revents & POLLIN) serve();
  else if (revents & (POLLHUP | POLLERR)) server_.stop();  // the files are gone
}

// The zone asked something of a file: the server takes the files over.
// Failing that, the connections close and the zone's callers get ENOTCONN.
void UtsSysctlHandover::serve() {
  Status s = server_.serve();
  if (s.ok()) return;
  log_error("/proc/sys/kernel/hostname cannot be served in the zone: " + s.error().message());
  server_.stop();
}

}  // namespace lxz
