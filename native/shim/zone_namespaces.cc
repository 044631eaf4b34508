#include "zone_namespaces.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <string>

#include "proc_write.h"

namespace lxz {
namespace {

// The ids the zone's root maps onto, as the keeper names them: the zone's
// range of host ids, or (rootless) root of the caller's user namespace, which
// the keeper entered first and which is the caller itself.
std::string id_map(const ShimConfig& c) {
  if (c.rootless) return "0 0 1\n";
  return "0 " + std::to_string(c.id_base) + " " + std::to_string(c.id_count) + "\n";
}

Status open_ns(pid_t pid, const char* name, Fd* out) {
  std::string path = "/proc/" + std::to_string(pid) + "/ns/" + name;
  out->reset(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!out->valid()) return sys_error("open " + path);
  return {};
}

Status map_and_open(pid_t holder, const ShimConfig& c, ZoneNamespaces* out) {
  std::string base = "/proc/" + std::to_string(holder);
  LXZ_TRY(write_file(base + "/uid_map", id_map(c)));
  LXZ_TRY(write_file(base + "/gid_map", id_map(c)));
  LXZ_TRY(open_ns(holder, "user", &out->user));
  LXZ_TRY(open_ns(holder, "net", &out->net));
  LXZ_TRY(open_ns(holder, "uts", &out->uts));
  return open_ns(holder, "ipc", &out->ipc);
}

}  // namespace

Status make_zone_namespaces(const ShimConfig& c, ZoneNamespaces* out) {
  int hold[2];
  if (pipe2(hold, O_CLOEXEC) < 0) return sys_error("pipe for the namespace holder");
  Fd hold_read(hold[0]), hold_write(hold[1]);
  struct clone_args ca = {};
  // One clone makes them all: the new network, UTS and IPC namespaces belong
  // to the new user namespace, not to ours.
  ca.flags = CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC;
  ca.exit_signal = 0;  // reaped below with __WALL; no SIGCHLD for the keeper's loop
  long pid = syscall(SYS_clone3, &ca, sizeof ca);
  if (pid < 0) return sys_error("clone3 (the zone's user, network, UTS and IPC namespaces)");
  if (pid == 0) {
    // The holder keeps the namespaces alive until the keeper has them open.
    hold_write.reset();
    char b;
    while (read(hold_read.get(), &b, 1) < 0 && errno == EINTR) {
    }
    _exit(0);
  }
  Status s = map_and_open(static_cast<pid_t>(pid), c, out);
  hold_write.reset();  // the holder reads EOF and exits
  int status;
  while (waitpid(static_cast<pid_t>(pid), &status, __WALL) < 0 && errno == EINTR) {
  }
  return s;
}

Status join_owned_namespaces(const ZoneNamespaces& ns) {
  if (setns(ns.net.get(), CLONE_NEWNET) < 0) return sys_error("join the zone's network namespace");
  if (setns(ns.uts.get(), CLONE_NEWUTS) < 0) return sys_error("join the zone's UTS namespace");
  if (setns(ns.ipc.get(), CLONE_NEWIPC) < 0) return sys_error("join the zone's IPC namespace");
  return {};
}

Status enter_zone_user_namespace(const ZoneNamespaces& ns) {
  if (setns(ns.user.get(), CLONE_NEWUSER) < 0) return sys_error("join the zone's user namespace");
  if (unshare(CLONE_NEWNS) < 0) return sys_error("unshare mount namespace");
  if (unshare(CLONE_NEWCGROUP) < 0) return sys_error("unshare cgroup namespace");
  return {};
}

}  // namespace lxz
