#include "uts_server_sandbox.h"

#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cerrno>

#include "../supervisor/fuse_mount.h"  // valid_filter_size

namespace lxz {
namespace {

// Keeps CAP_SYS_ADMIN (over the zone's user namespace: joining its UTS
// namespaces and setting their names) and CAP_SYS_PTRACE, nothing else, for
// good. CAP_SYS_PTRACE because joining a caller's namespace through its
// pidfd takes ptrace read access to the caller, as opening /proc/PID/ns
// would, and a caller whose capabilities are not a subset of ours (the
// zone's root) passes that check only with it: without it every request
// is refused (test/70.security.uts-sysctl fails from the first write).
Status keep_only_sys_admin() {
  for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
    if (cap != CAP_SYS_ADMIN && cap != CAP_SYS_PTRACE && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) return sys_error("drop bounding capabilities");
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {};
  for (int cap : {CAP_SYS_ADMIN, CAP_SYS_PTRACE}) {
    data[CAP_TO_INDEX(cap)].effective |= CAP_TO_MASK(cap);
    data[CAP_TO_INDEX(cap)].permitted |= CAP_TO_MASK(cap);
  }
  if (syscall(SYS_capset, &header, data) < 0) return sys_error("capset");
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return sys_error("no_new_privs");
  return {};
}

}  // namespace

// It reads no file at all, so its root is empty. The copy of the host's
// mounts that unshare made is detached (pivot_root, then umount of the old root), not just left under a
// chroot. Kept, it pinned every filesystem mounted on the host at the
// zone's start for as long as the zone ran: another zone's disk among them,
// which then outlived that zone's halt, so its disk could not be grown
// offline at its next boot (src/zone/cgroups/disk.ts).
Status enter_uts_server_sandbox(int user_ns) {
  if (setns(user_ns, CLONE_NEWUSER) < 0) return sys_error("join the zone's user namespace");
  if (setresgid(0, 0, 0) < 0) return sys_error("setresgid to the zone's root");
  if (setgroups(0, nullptr) < 0 && errno != EPERM) return sys_error("setgroups");
  if (setresuid(0, 0, 0) < 0) return sys_error("setresuid to the zone's root");
  if (unshare(CLONE_NEWNS) < 0) return sys_error("unshare a mount namespace");
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) return sys_error("make the mounts private");
  if (mount("none", "/tmp", "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,nr_inodes=2,mode=0500") < 0)
    return sys_error("empty root");
  if (chdir("/tmp") < 0) return sys_error("chdir into the empty root");
  // pivot_root hands the old root's lock (copied mounts of a less privileged
  // namespace are locked) to the new one, so the old root can be detached.
  if (syscall(SYS_pivot_root, ".", ".") < 0) return sys_error("pivot_root into the empty root");
  if (umount2(".", MNT_DETACH) < 0) return sys_error("detach the host's mounts");
  if (chdir("/") < 0) return sys_error("chdir /");
  return keep_only_sys_admin();
}

// The uts-server profile (syscall-tables/rules/uts-server.json, compiled in
// TypeScript and carried in the config), installed as the last step of the
// set-up, under the no_new_privs keep_only_sys_admin set, and before the
// first request is read: what the zone's writes reach from here on is the
// serving loop's few calls (read and answer /dev/fuse, poll, a pidfd of the
// caller, setns into its UTS namespace only, uname, sethostname,
// setdomainname, memory without PROT_EXEC, exit). No listener: nothing it
// does is notified (the profile has notify: false).
Status install_uts_server_filter(const std::vector<uint8_t>& bytes) {
  if (!valid_filter_size(bytes.size())) return Error{EINVAL, "the uts-server filter is not a seccomp filter"};
  struct sock_fprog prog = {};
  prog.len = static_cast<unsigned short>(bytes.size() / sizeof(struct sock_filter));
  prog.filter = reinterpret_cast<struct sock_filter*>(const_cast<uint8_t*>(bytes.data()));
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0) return sys_error("install the uts-server seccomp filter");
  return {};
}

}  // namespace lxz
