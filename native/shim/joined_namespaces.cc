#include "joined_namespaces.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cerrno>

namespace lxz {
namespace {

const char* type_name(int nstype) {
  switch (nstype) {
    case CLONE_NEWNET: return "net";
    case CLONE_NEWIPC: return "ipc";
    case CLONE_NEWUTS: return "uts";
    default: return "?";
  }
}

bool same_inode(const struct stat& a, const struct stat& b) { return a.st_dev == b.st_dev && a.st_ino == b.st_ino; }

Status stat_fd(int fd, const std::string& what, struct stat* st) {
  if (fstat(fd, st) < 0) return sys_error("stat " + what);
  return {};
}

// "0 BASE COUNT" with the kernel's column padding taken out.
std::string normalized_map(const std::string& path, bool* ok) {
  Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  char buf[256] = {};
  ssize_t n = fd.valid() ? read(fd.get(), buf, sizeof buf - 1) : -1;
  *ok = n > 0;
  std::string text(buf, n > 0 ? static_cast<size_t>(n) : 0), out;
  for (size_t pos = 0; (pos = text.find_first_not_of(" \t\n", pos)) != std::string::npos;) {
    size_t end = text.find_first_of(" \t\n", pos);
    if (end == std::string::npos) end = text.size();
    out += (out.empty() ? "" : " ") + text.substr(pos, end - pos);
    pos = end;
  }
  return out;
}

}  // namespace

Status open_pod_user_namespace(const ShimConfig& c, Fd* out) {
  pid_t pid = c.join_userns_pid;
  std::string base = "/proc/" + std::to_string(pid);
  Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd.valid()) return Error{ESRCH, "the pod's zone (init pid " + std::to_string(pid) + ") is not running"};
  // The pod's range must be this zone's: its rootfs, fifo and id claim are cut for it.
  std::string want = "0 " + std::to_string(c.id_base) + " " + std::to_string(c.id_count);
  bool ok_u = false, ok_g = false;
  std::string uid_map = normalized_map(base + "/uid_map", &ok_u), gid_map = normalized_map(base + "/gid_map", &ok_g);
  if (!ok_u || !ok_g || uid_map != want || gid_map != want)
    return Error{EPERM, "the pod's zone (pid " + std::to_string(pid) + ") maps ids " + uid_map + ", not this zone's " + want};
  out->reset(open((base + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC));
  if (!out->valid()) return sys_error("open " + base + "/ns/user");
  // Read through the pid: the pidfd says it was still the same process after.
  if (syscall(SYS_pidfd_send_signal, pidfd.get(), 0, nullptr, 0) < 0)
    return Error{ESRCH, "the pod's zone (init pid " + std::to_string(pid) + ") ended while it was joined"};
  return {};
}

Status open_joined_namespace(const std::string& path, int nstype, const Fd& zone_user, Fd* out) {
  const std::string what = std::string(type_name(nstype)) + " namespace " + path;
  // O_NOFOLLOW would refuse /proc/PID/ns/* itself (magic links): the path is
  // the caller's (root's) choice; what it names is checked below.
  Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return sys_error("open the " + what);
  int type = ioctl(fd.get(), NS_GET_NSTYPE);
  if (type < 0) return Error{EINVAL, path + " is not a namespace"};
  if (type != nstype) return Error{EINVAL, path + " is not a " + type_name(nstype) + " namespace"};
  struct stat ns_st, host_st;
  LXZ_TRY(stat_fd(fd.get(), what, &ns_st));
  // The host's own: a zone that shared it would reach the host's network
  // (its loopback services, its abstract sockets), IPC or names.
  if (stat((std::string("/proc/self/ns/") + type_name(nstype)).c_str(), &host_st) == 0 && same_inode(ns_st, host_st))
    return Error{EPERM, "the " + what + " is the host's own: a zone never shares the host's namespaces"};
  Fd owner(ioctl(fd.get(), NS_GET_USERNS));
  if (!owner.valid()) return sys_error("the owner of the " + what);
  struct stat owner_st, zone_st, init_st;
  LXZ_TRY(stat_fd(owner.get(), "its owner", &owner_st));
  LXZ_TRY(stat_fd(zone_user.get(), "the zone's user namespace", &zone_st));
  if (stat("/proc/self/ns/user", &init_st) < 0) return sys_error("stat /proc/self/ns/user");
  // Owned by the zone's own user namespace (the pod's), or made by the host
  // for containers (CNI's pod network namespace): the zone's root gets no
  // capability over the latter, which is stricter, never weaker.
  if (!same_inode(owner_st, zone_st) && !same_inode(owner_st, init_st))
    return Error{EPERM, "the " + what + " belongs to another user namespace (not the pod's zone, not the host's)"};
  *out = std::move(fd);
  return {};
}

}  // namespace lxz
