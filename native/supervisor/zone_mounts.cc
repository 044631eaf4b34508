#include "zone_mounts.h"

#include <fcntl.h>
#include <linux/mount.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>

namespace lxz {
namespace {

// The child only makes raw syscalls (it is a copy of one thread of a
// multi-threaded process) and reports an errno as its exit status.
struct Job {
  const CallerNamespaces* ns;
  int file_fd;
  int target_fd;
  bool read_only;
  int dir_fd;
  const char* name;
  bool unmount;
};

int child_work(const Job& j) {
  // The user namespace first: then the mount namespace, which it owns, is
  // entered (and changed) with the zone's capabilities, not the host's.
  if (setns(j.ns->user.get(), CLONE_NEWUSER) < 0) return errno;
  // As the zone's root: a FUSE driver refuses ids its namespace cannot map.
  if (syscall(SYS_setresgid, 0, 0, 0) < 0 || syscall(SYS_setresuid, 0, 0, 0) < 0) return errno;
  if (setns(j.ns->mnt.get(), CLONE_NEWNS) < 0) return errno;
  if (j.unmount) {
    // dir_fd may be the mount's own root (name "."): the child's cwd is
    // then inside it, hence the detach.
    if (fchdir(j.dir_fd) < 0) return errno;
    if (umount2(j.name, UMOUNT_NOFOLLOW | MNT_DETACH) < 0) return errno;
    return 0;
  }
  // A copy of the file's own mount: only a file on a mount of this
  // namespace can be cloned (EINVAL otherwise: a pipe, a memfd, a file of
  // another namespace), so the zone binds nothing it could not already reach.
  int tree = static_cast<int>(syscall(SYS_open_tree, j.file_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH));
  if (tree < 0) return errno;
  struct mount_attr attr = {};
  attr.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC | (j.read_only ? MOUNT_ATTR_RDONLY : 0);
  if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) return errno;
  if (syscall(SYS_move_mount, tree, "", j.target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) return errno;
  return 0;
}

int run(const Job& j) {
  struct clone_args ca = {};
  ca.exit_signal = 0;  // reaped here with __WALL; no SIGCHLD for Node's loop
  long pid = syscall(SYS_clone3, &ca, sizeof ca);
  if (pid < 0) return errno;
  if (pid == 0) {
    int err = child_work(j);
    syscall(SYS_exit_group, err > 255 ? EIO : err);
  }
  int status = 0;
  while (waitpid(static_cast<pid_t>(pid), &status, __WALL) < 0) {
    if (errno != EINTR) return ECHILD;
  }
  if (!WIFEXITED(status)) return EIO;
  return WEXITSTATUS(status);
}

}  // namespace

int bind_file_in_zone(const CallerNamespaces& ns, int file_fd, int target_fd, bool read_only) {
  return run(Job{&ns, file_fd, target_fd, read_only, -1, nullptr, false});
}

int unmount_in_zone(const CallerNamespaces& ns, int dir_fd, const char* name) {
  return run(Job{&ns, -1, -1, false, dir_fd, name, true});
}

}  // namespace lxz
