#include "zone_namespaces.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <linux/securebits.h>
#include <sys/prctl.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cerrno>
#include <string>

#include "joined_namespaces.h"
#include "namespace_holder.h"
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

// The namespaces this zone makes of its own: those it does not join by path.
int own_flags(const ShimConfig& c) {
  return (c.join_ns_net.empty() ? CLONE_NEWNET : 0) | (c.join_ns_uts.empty() ? CLONE_NEWUTS : 0) |
         (c.join_ns_ipc.empty() ? CLONE_NEWIPC : 0);
}

Status map_and_open(pid_t holder, const ShimConfig& c, ZoneNamespaces* out) {
  std::string base = "/proc/" + std::to_string(holder);
  if (!c.join_userns_pid) {
    LXZ_TRY(write_file(base + "/uid_map", id_map(c)));
    LXZ_TRY(write_file(base + "/gid_map", id_map(c)));
    LXZ_TRY(open_ns(holder, "user", &out->user));
  }
  int flags = own_flags(c);
  if (flags & CLONE_NEWNET) LXZ_TRY(open_ns(holder, "net", &out->net));
  if (flags & CLONE_NEWUTS) LXZ_TRY(open_ns(holder, "uts", &out->uts));
  if (flags & CLONE_NEWIPC) LXZ_TRY(open_ns(holder, "ipc", &out->ipc));
  return {};
}

// The kernel counts namespaces, inotify instances and the ucount-backed
// rlimits (nproc, mqueue bytes, pending signals, locked memory) of everything
// made inside a user namespace also against that namespace's owner in the
// parent: made by the keeper as host root, every zone's nested namespaces and
// inotify instances were charged to host root's own counters, and one zone
// could use them up for the host (user.max_inotify_instances is 128:
// systemd, udev and the next zone's start then fail). Owned by the zone's own
// first host id, a zone uses up only its own counters. The keeper takes that
// euid for the one clone3 on this thread only (raw setresuid; glibc's would
// change every thread), keeping its capabilities (SECBIT_NO_SETUID_FIXUP),
// which a kernel that allows user namespaces only to CAP_SYS_ADMIN wants.
class ZoneOwnerEuid {
 public:
  explicit ZoneOwnerEuid(const ShimConfig& c) {
    if (c.rootless) return;  // the caller's own user namespace owns it already
    bits_ = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
    dumpable_ = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
    if (bits_ < 0 || dumpable_ < 0) {
      status_ = sys_error("read securebits");
      return;
    }
    if (prctl(PR_SET_SECUREBITS, bits_ | SECBIT_NO_SETUID_FIXUP, 0, 0, 0) < 0) {
      status_ = sys_error("keep capabilities across the owner's euid");
      return;
    }
    if (syscall(SYS_setresuid, -1, c.id_base, -1) < 0) {
      status_ = sys_error("take the zone's first host id as euid");
      prctl(PR_SET_SECUREBITS, bits_, 0, 0, 0);
      return;
    }
    active_ = true;
  }
  ~ZoneOwnerEuid() {
    if (!active_) return;
    // Back to host root; the process cannot go on as anyone else.
    if (syscall(SYS_setresuid, -1, 0, -1) < 0 || prctl(PR_SET_SECUREBITS, bits_, 0, 0, 0) < 0) _exit(125);
    // An euid change made the keeper non-dumpable, which every process it
    // clones later would inherit: as it was before.
    prctl(PR_SET_DUMPABLE, dumpable_, 0, 0, 0);
  }
  ZoneOwnerEuid(const ZoneOwnerEuid&) = delete;
  ZoneOwnerEuid& operator=(const ZoneOwnerEuid&) = delete;
  const Status& status() const { return status_; }
  // The child of the clone: its credentials are its own, in the new namespace.
  void forget() { active_ = false; }

 private:
  int bits_ = 0;
  int dumpable_ = 1;
  bool active_ = false;
  Status status_;
};

// The holder shares the keeper's memory (CLONE_VM, on a stack of its own):
// a fork would copy the keeper's page tables and leave every page the
// keeper writes next to a copy-on-write fault (~10 us each here), for a
// process that only waits. It runs holder_wait alone: one read, then exit
// (glibc's clone ends it with the function's return), touching nothing of
// the keeper's but its stack below. One holder per keeper, and the keeper
// reaps it before it could make another. Its memory being the keeper's adds
// no way in: only a process that can name its pid could ptrace it or open
// its /proc/PID/mem, and the zone's processes live in a pid namespace of
// their own, made after it (a fork was a full copy of the same memory).
alignas(64) char g_holder_stack[16384];
int g_holder_fds[2] = {-1, -1};  // its ends of the hold pipe: read, write

int holder_wait(void*) {
  // Its own fd table: its copy of the write end closed, the keeper's close is EOF.
  close(g_holder_fds[1]);
  char b;
  // No signal handler can interrupt it (EINTR): the read returns at EOF.
  while (read(g_holder_fds[0], &b, 1) < 0) {
  }
  return 0;
}

Status clone_holder(const ShimConfig& c, const Fd& hold_read, const Fd& hold_write, long* pid) {
  ZoneOwnerEuid owner(c);
  LXZ_TRY(owner.status());
  g_holder_fds[0] = hold_read.get();
  g_holder_fds[1] = hold_write.get();
  // One clone makes them all: the new network, UTS and IPC namespaces belong
  // to the new user namespace, not to ours. No exit signal: reaped with
  // __WALL, no SIGCHLD for the keeper's loop.
  *pid = clone(holder_wait, g_holder_stack + sizeof g_holder_stack, CLONE_VM | CLONE_NEWUSER | own_flags(c), nullptr);
  if (*pid < 0) return sys_error("clone (the zone's user, network, UTS and IPC namespaces)");
  return {};
}

}  // namespace

// A pod's zone (join-userns): the holder enters the pod's user namespace
// and makes there what this zone does not join, so those belong to the pod's
// user namespace as the sandbox's own do. Reports its unshare over `ready`.
Status pod_holder(const ShimConfig& c, const Fd& pod_user, long* pid, Fd* ready_read) {
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) < 0) return sys_error("pipe for the namespace holder");
  Fd r(ready[0]), w(ready[1]);
  struct clone_args ca = {};
  ca.exit_signal = 0;
  *pid = syscall(SYS_clone3, &ca, sizeof ca);
  if (*pid < 0) return sys_error("clone3 (the namespace holder)");
  if (*pid == 0) {
    char ok = setns(pod_user.get(), CLONE_NEWUSER) == 0 && (own_flags(c) == 0 || unshare(own_flags(c)) == 0) ? 1 : 0;
    char err = ok ? 0 : static_cast<char>(errno);
    char msg[2] = {ok, err};
    if (write(w.get(), msg, sizeof msg) != sizeof msg) _exit(1);
    return {};  // the caller's holder loop waits for the keeper
  }
  *ready_read = std::move(r);
  return {};
}

Status open_joined(const ShimConfig& c, ZoneNamespaces* out) {
  if (!c.join_ns_net.empty()) LXZ_TRY(open_joined_namespace(c.join_ns_net, CLONE_NEWNET, out->user, &out->net));
  if (!c.join_ns_uts.empty()) LXZ_TRY(open_joined_namespace(c.join_ns_uts, CLONE_NEWUTS, out->user, &out->uts));
  if (!c.join_ns_ipc.empty()) LXZ_TRY(open_joined_namespace(c.join_ns_ipc, CLONE_NEWIPC, out->user, &out->ipc));
  return {};
}

Status make_zone_namespaces(const ShimConfig& c, ZoneNamespaces* out) {
  bool joins = c.join_userns_pid || own_flags(c) != (CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC);
  if (joins && c.rootless) return Error{EPERM, "joining namespaces needs root"};
  if (c.join_userns_pid) LXZ_TRY(open_pod_user_namespace(c, &out->user));
  int hold[2];
  if (pipe2(hold, O_CLOEXEC) < 0) return sys_error("pipe for the namespace holder");
  Fd hold_read(hold[0]), hold_write(hold[1]);
  long pid = -1;
  Fd ready;
  if (c.join_userns_pid) LXZ_TRY(pod_holder(c, out->user, &pid, &ready));
  else LXZ_TRY(clone_holder(c, hold_read, hold_write, &pid));
  if (pid == 0) {
    // A pod's holder (a fork) keeps the namespaces alive until the keeper has them open.
    hold_write.reset();
    char b;
    while (read(hold_read.get(), &b, 1) < 0 && errno == EINTR) {
    }
    _exit(0);
  }
  Status s;
  if (ready.valid()) {
    char msg[2] = {0, 0};
    if (read(ready.get(), msg, sizeof msg) != sizeof msg || msg[0] != 1)
      s = Error{msg[1] ? msg[1] : EPERM, "make namespaces in the pod's user namespace"};
  }
  if (s.ok()) s = map_and_open(static_cast<pid_t>(pid), c, out);
  hold_write.reset();  // the holder reads EOF and exits
  // Its exit is a hand-off to another process (a scheduling delay on a busy
  // host, 1-3 ms at load 4 on two CPUs) that nothing here needs to wait for.
  if (!s.ok()) {
    reap_namespace_holder(static_cast<pid_t>(pid), true);
    return s;
  }
  out->holder = static_cast<pid_t>(pid);
  // After the zone's user namespace exists: whose they are is checked against it.
  return open_joined(c, out);
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
