// setpriority(PRIO_PROCESS, who, negative nice) by a zone's root (issue
// 21.6). Natively root lowers its nice value through CAP_SYS_NICE of the
// host, which no zone holds (and RLIMIT_NICE cannot stand in for it where
// the host's root lacks CAP_SYS_RESOURCE to raise a hard limit). The
// supervisor, which holds CAP_SYS_NICE, makes the change on the caller's
// behalf when all of this holds:
//
// - the zone has a cgroup of its own (a memory usage file: every capped or
//   named zone): a nice value weighs a task only against the others of its
//   cgroup, and the cgroup's cpu weight bounds the zone against the host's
//   other cgroups, so -20 starves nothing outside the zone. A zone in its
//   launcher's cgroup gets the kernel's answer (EACCES);
// - the caller is the zone's root (effective uid 0 of the zone, in the
//   zone's own user namespace: a nested namespace's root is not);
// - the target is the caller itself (who 0, its own tid, or its own
//   process id: the thread group's leader), or another process of the
//   zone: then a helper born in the caller's pid namespace lets the kernel
//   resolve the pid (zone_renice.h), and only a process whose user
//   namespace is the zone's (or nested in it) is changed; any other is
//   left to the kernel (EACCES).
//
// The task is named by the notification's tid, which is the caller's for as
// long as the call is pending (checked after the pidfd is opened); the pid
// allocator hands out numbers cyclically, so a tid freed by a caller killed
// in the microseconds before setpriority is not handed out again within them.
// Realtime policies (sched_setscheduler) stay refused: a realtime task
// escapes cpu weights.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "../../common/fd.h"
#include "../tracee_memory.h"
#include "../zone_renice.h"
#include "handler.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

namespace lxz {
namespace {

// The value after `key` in /proc/PID/status text ("Uid:\tr\te\ts\tf": field 1 is the effective).
long status_field(const std::string& status, const char* key, int field) {
  size_t pos = status.find(std::string("\n") + key);
  if (pos == std::string::npos) return -1;
  const char* p = status.c_str() + pos + 1 + std::char_traits<char>::length(key);
  char* end = nullptr;
  long v = -1;
  for (int i = 0; i <= field; i++) {
    v = std::strtol(p, &end, 10);
    if (end == p) return -1;
    p = end;
  }
  return v;
}

// Last number of an "NSpid:" line: the id in the innermost pid namespace (the zone's).
long innermost(const std::string& status, const char* key) {
  size_t pos = status.find(std::string("\n") + key);
  if (pos == std::string::npos) return -1;
  size_t end = status.find('\n', pos + 1);
  std::string line = status.substr(pos + 1, end == std::string::npos ? std::string::npos : end - pos - 1);
  size_t last = line.find_last_of(" \t");
  return last == std::string::npos ? -1 : std::strtol(line.c_str() + last + 1, nullptr, 10);
}

// The host uid the zone's root maps to, from its init's uid_map ("0 HOST COUNT").
long zone_root_host_uid(pid_t init_pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/uid_map", static_cast<int>(init_pid));
  FILE* f = std::fopen(path, "re");
  if (!f) return -1;
  long inside = -1, outside = -1, count = 0;
  int n = std::fscanf(f, "%ld %ld %ld", &inside, &outside, &count);
  std::fclose(f);
  return n == 3 && inside == 0 && count > 0 ? outside : -1;
}

std::string user_ns_of(pid_t pid) {
  char path[64], link[64];
  std::snprintf(path, sizeof path, "/proc/%d/ns/user", static_cast<int>(pid));
  ssize_t n = readlink(path, link, sizeof link);
  return n > 0 ? std::string(link, static_cast<size_t>(n)) : std::string();
}

// Another process of the zone: the kernel resolves `who` in the caller's own
// pid namespace (zone_renice.h); a process that is not the zone's is left to
// the kernel (EACCES).
Reply renice_other(Call& call, int who, int nice) {
  pid_t pid = static_cast<pid_t>(call.req.pid);
  Fd pid_ns, zone_user;
  if (open_tracee_proc(call.listener, call.req.id, pid, "ns/pid", O_RDONLY, &pid_ns)) return Reply::error_of(ESRCH);
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/ns/user", static_cast<int>(call.zone.init_pid));
  zone_user.reset(open(path, O_RDONLY | O_CLOEXEC));
  if (!zone_user.valid()) return Reply::error_of(ESRCH);
  int err = renice_in_zone(pid_ns.get(), zone_user.get(), who, nice);
  if (err == kReniceNotInZone) return Reply::cont();
  return err ? Reply::error_of(err) : Reply::value_of(0);
}

}  // namespace

Reply handle_setpriority(Call& call) {
  const auto& a = call.req.data.args;
  // The rule routes only PRIO_PROCESS with a negative value here; check again.
  int which = static_cast<int>(a[0]);
  int who = static_cast<int>(a[1]);
  int nice = static_cast<int>(a[2]);
  if (which != PRIO_PROCESS || nice >= 0) return Reply::cont();
  if (call.zone.options.memory_usage_file.empty() || call.zone.init_pid <= 0) return Reply::cont();
  pid_t tid = static_cast<pid_t>(call.req.pid);
  std::string status = read_proc_file(call.listener, call.req.id, tid, "status", 8192);
  if (status.empty()) return Reply::error_of(ESRCH);
  long euid = status_field(status, "Uid:", 1);
  long root = zone_root_host_uid(call.zone.init_pid);
  std::string ns = user_ns_of(tid);
  if (euid < 0 || root < 0 || euid != root || ns.empty() || ns != user_ns_of(call.zone.init_pid)) return Reply::cont();
  // Who, in the caller's pid namespace: itself (0 or its tid) or its thread group's leader.
  long own_tid = innermost(status, "NSpid:");
  long own_tgid = innermost(status, "NStgid:");
  long host_tgid = status_field(status, "Tgid:", 0);
  pid_t target;
  if (who == 0 || who == own_tid) target = tid;
  else if (who == own_tgid && host_tgid > 0) target = static_cast<pid_t>(host_tgid);
  else return renice_other(call, who, nice < -20 ? -20 : nice);
  Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, target, target == tid ? PIDFD_THREAD : 0)));
  if (!pidfd.valid() && target == tid) pidfd.reset(static_cast<int>(syscall(SYS_pidfd_open, target, 0)));
  // Opened while the call is pending: the caller (and its leader, which
  // outlives no thread of its group) is alive, the tid is its.
  if (!pidfd.valid() || !notification_valid(call.listener, call.req.id)) return Reply::error_of(ESRCH);
  if (nice < -20) nice = -20;  // Linux clamps as well
  if (setpriority(PRIO_PROCESS, static_cast<id_t>(target), nice) < 0) return Reply::error_of(errno);
  return Reply::value_of(0);
}

}  // namespace lxz
