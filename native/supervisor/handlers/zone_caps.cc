#include "zone_caps.h"

#include <unistd.h>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "../tracee_memory.h"

namespace lxz {
namespace {

// The user namespace a process is in, as "user:[inode]"; empty if gone.
std::string user_ns_of(pid_t pid) {
  char path[64], link[64];
  std::snprintf(path, sizeof path, "/proc/%d/ns/user", static_cast<int>(pid));
  ssize_t n = readlink(path, link, sizeof link);
  return n > 0 ? std::string(link, static_cast<size_t>(n)) : std::string();
}

}  // namespace

bool caller_has_zone_capability(const Call& call, int cap) {
  pid_t pid = static_cast<pid_t>(call.req.pid);
  std::string status = read_proc_file(call.listener, call.req.id, pid, "status", 8192);
  size_t pos = status.find("\nCapEff:");
  if (pos == std::string::npos || call.zone.init_pid <= 0 || cap < 0 || cap > 63) return false;
  uint64_t effective = std::strtoull(status.c_str() + pos + 8, nullptr, 16);
  if (!(effective & (uint64_t{1} << cap))) return false;
  std::string caller_ns = user_ns_of(pid);
  // Read before the check below: a pid reused since would fail it.
  if (!notification_valid(call.listener, call.req.id)) return false;
  return !caller_ns.empty() && caller_ns == user_ns_of(call.zone.init_pid);
}

}  // namespace lxz
