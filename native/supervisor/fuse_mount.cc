#include "fuse_mount.h"

#include <fcntl.h>
#include <linux/filter.h>
#include <linux/mount.h>
#include <linux/seccomp.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <initializer_list>
#include <vector>

namespace lxz {
namespace {

// Between clone and exec only raw syscalls: both children are copies of one
// thread of a multi-threaded process. Paths and argv are built before.
constexpr const char* kStage = "/tmp";  // in a private copy of the zone's mounts
constexpr int kWaitMs = 15000;

long now_ms() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int move_into(int tree, const char* to) {
  if (syscall(SYS_move_mount, tree, "", AT_FDCWD, to, MOVE_MOUNT_F_EMPTY_PATH) < 0) return errno;
  return 0;
}

// The driver's root, built as host root: a tmpfs holding the host's /usr
// (read-only, with the merged-/usr links), the image (a clone of the zone's
// own mount of it), /dev/fuse, /dev/null and /dev/urandom (made here: the host's
// /dev/fuse is root's only), and an empty /mnt. Everything else of the host
// and of the zone is gone after the pivot.
int build_root(const FuseMountJob& j) {
  int usr = static_cast<int>(syscall(SYS_open_tree, AT_FDCWD, "/usr", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE));
  if (usr < 0) return errno;
  struct mount_attr ro = {};
  ro.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
  if (syscall(SYS_mount_setattr, usr, "", AT_EMPTY_PATH | AT_RECURSIVE, &ro, sizeof ro) < 0) return errno;
  // lxzone-fusermount likewise, from the host's namespace (exfat only).
  int standin = -1;
  if (j.fusermount >= 0) {
    standin = static_cast<int>(syscall(SYS_open_tree, j.fusermount, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH));
    if (standin < 0) return errno;
  }
  // The image can be cloned only from inside the namespace it is mounted in.
  if (setns(j.mnt_ns, CLONE_NEWNS) < 0) return errno;
  int image = static_cast<int>(syscall(SYS_open_tree, j.backing, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH));
  if (image < 0) return errno;
  struct mount_attr img = {};
  img.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC | (j.read_only ? MOUNT_ATTR_RDONLY : 0);
  if (syscall(SYS_mount_setattr, image, "", AT_EMPTY_PATH, &img, sizeof img) < 0) return errno;
  if (unshare(CLONE_NEWNS) < 0) return errno;
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) return errno;
  if (mount("lxzone-fuse", kStage, "tmpfs", MS_NOSUID, "mode=0755,size=64k,nr_inodes=32") < 0) return errno;
  if (chdir(kStage) < 0) return errno;
  for (const char* d : {"usr", "dev", "mnt", "old"})
    if (mkdir(d, 0755) < 0) return errno;
  if (symlink("usr/lib", "lib") < 0 || symlink("usr/lib64", "lib64") < 0 || symlink("usr/bin", "bin") < 0 || symlink("usr/sbin", "sbin") < 0) return errno;
  int f = open("image", O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
  if (f < 0) return errno;
  close(f);
  if (int err = move_into(usr, "usr")) return err;
  if (int err = move_into(image, "image")) return err;
  if (standin >= 0)
    if (int err = move_into(standin, j.fusermount_at)) return err;
  // chmod after mknod: the launcher's umask would keep the zone out.
  if (mknod("dev/fuse", S_IFCHR | 0666, makedev(10, 229)) < 0 || chmod("dev/fuse", 0666) < 0) return errno;
  if (mknod("dev/null", S_IFCHR | 0666, makedev(1, 3)) < 0 || chmod("dev/null", 0666) < 0) return errno;
  if (mknod("dev/urandom", S_IFCHR | 0444, makedev(1, 9)) < 0 || chmod("dev/urandom", 0444) < 0) return errno;
  if (syscall(SYS_pivot_root, ".", "old") < 0) return errno;
  if (chdir("/") < 0) return errno;
  if (umount2("/old", MNT_DETACH) < 0) return errno;
  return 0;
}

// no_new_privs, stdio on /dev/null, no other fd, then the fuse-driver filter
// as the last thing before exec (as the shim does for a zone's process): an
// image that takes the driver over gets only what a FUSE driver needs. No
// listener: nothing it does is notified (the profile has notify: false).
[[noreturn]] void driver_main(const char* path, char* const argv[], const struct sock_fprog* filter) {
  int err = 0;
  int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) err = errno;
  if (!err && null_fd >= 0) {
    dup2(null_fd, 0);
    dup2(null_fd, 1);
    dup2(null_fd, 2);
  }
  if (!err) syscall(SYS_close_range, 3, ~0U, 0);
  if (!err && syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, filter) < 0) err = errno;
  if (!err) {
    char* const envp[] = {nullptr};
    execve(path, argv, envp);
    err = errno;
  }
  syscall(SYS_exit_group, 100 + (err & 0x7f));
  __builtin_unreachable();
}

int helper_main(const FuseMountJob& j, char* const argv[], const struct sock_fprog* filter) {
  // Charged to the zone from the start; the driver inherits it.
  if (j.cgroup_procs >= 0 && write(j.cgroup_procs, "0", 1) < 0) return errno;
  if (int err = build_root(j)) return err;
  // The zone's root from here on, with no capability of the host's; the
  // driver's namespaces are its own (nothing to see, signal or reach).
  if (setns(j.user_ns, CLONE_NEWUSER) < 0) return errno;
  if (syscall(SYS_setresgid, 0, 0, 0) < 0 || syscall(SYS_setresuid, 0, 0, 0) < 0) return errno;
  if (unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS) < 0) return errno;
  struct statx before;
  if (statx(AT_FDCWD, "/mnt", AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &before) < 0) return errno;
  struct clone_args ca = {};
  ca.exit_signal = SIGCHLD;
  long driver = syscall(SYS_clone3, &ca, sizeof ca);
  if (driver < 0) return errno;
  if (driver == 0) driver_main(argv[0], argv, filter);
  // Mounted when /mnt is the root of another mount (statx never asks the
  // driver: AT_STATX_DONT_SYNC); failed when the driver exits first.
  for (long deadline = now_ms() + kWaitMs;;) {
    int status;
    if (waitpid(static_cast<pid_t>(driver), &status, WNOHANG) == static_cast<pid_t>(driver))
      return WIFEXITED(status) && WEXITSTATUS(status) >= 100 ? WEXITSTATUS(status) - 100 : EINVAL;
    struct statx now;
    if (statx(AT_FDCWD, "/mnt", AT_SYMLINK_NOFOLLOW | AT_STATX_DONT_SYNC, STATX_MNT_ID, &now) == 0 && now.stx_mnt_id != before.stx_mnt_id) break;
    if (now_ms() > deadline) {
      kill(static_cast<pid_t>(driver), SIGKILL);
      return ETIMEDOUT;
    }
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, nullptr);
  }
  int err = 0;
  int tree = static_cast<int>(syscall(SYS_open_tree, AT_FDCWD, "/mnt", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
  if (tree < 0) err = errno;
  struct mount_attr attr = {};
  attr.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | j.attr | (j.read_only ? MOUNT_ATTR_RDONLY : 0);
  if (!err && syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) err = errno;
  // Only the zone's copy stays: when the zone unmounts it (or ends), the
  // connection ends and so does the driver.
  if (!err && umount2("/mnt", MNT_DETACH) < 0) err = errno;
  if (!err && setns(j.mnt_ns, CLONE_NEWNS) < 0) err = errno;
  if (!err && syscall(SYS_move_mount, tree, "", j.target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) err = errno;
  if (err) kill(static_cast<pid_t>(driver), SIGKILL);
  return err;
}

}  // namespace

bool fuse_driver_for(const char* t, FuseDriver* driver, bool* read_only_type) {
  struct Entry {
    const char* type;
    FuseDriver driver;
    bool read_only;
  };
  // mount(2)'s type names (mount -t), each served by one driver. ntfs3 is
  // the kernel's newer ntfs driver's name: the same filesystem.
  static constexpr Entry kTable[] = {
      {"ext2", FuseDriver::kFuse2fs, false},      {"ext3", FuseDriver::kFuse2fs, false},
      {"ext4", FuseDriver::kFuse2fs, false},      {"vfat", FuseDriver::kFusefat, false},
      {"squashfs", FuseDriver::kSquashfuse, true}, {"ntfs", FuseDriver::kNtfs3g, false},
      {"ntfs3", FuseDriver::kNtfs3g, false},      {"iso9660", FuseDriver::kFuseiso, true},
      {"exfat", FuseDriver::kExfat, false},
  };
  for (const Entry& e : kTable) {
    if (std::strcmp(e.type, t) != 0) continue;
    *driver = e.driver;
    *read_only_type = e.read_only;
    return true;
  }
  return false;
}

int mount_fuse_in_zone(const FuseMountJob& j) {
  // Never a driver without its filter (a zone attached by an older client,
  // a keeper config without serve-driver-filter).
  if (!j.filter || !valid_filter_size(j.filter_len)) return EPERM;
  struct sock_fprog filter = {};
  filter.len = static_cast<unsigned short>(j.filter_len / sizeof(struct sock_filter));
  filter.filter = reinterpret_cast<struct sock_filter*>(const_cast<uint8_t*>(j.filter));
  // Absolute: argv[0] is also the path the driver is executed from. Every
  // driver stays in the foreground (it is pid 1 of its own pid namespace:
  // a daemonizing parent that exits would take the child with it).
  const char* ro = j.read_only ? "ro,allow_other" : "allow_other";
  std::vector<const char*> args;
  switch (j.driver) {
    case FuseDriver::kFuse2fs:
      args = {"/usr/bin/fuse2fs", "/image", "/mnt", "-f", "-o", ro};
      break;
    case FuseDriver::kFusefat:
      // fusefat mounts read-only unless told "rw+" (its writing is marked
      // experimental: a risk to the zone's own image, nothing else).
      args = {"/usr/bin/fusefat", "/image", "/mnt", "-f", "-o", j.read_only ? ro : "rw+,allow_other"};
      break;
    case FuseDriver::kSquashfuse:
      args = {"/usr/bin/squashfuse", "/image", "/mnt", "-f", "-o", ro};
      break;
    case FuseDriver::kNtfs3g:
      // ntfs-3g has its own option parser: no_detach is its -f.
      args = {"/usr/bin/ntfs-3g", "/image", "/mnt", "-o", j.read_only ? "no_detach,ro,allow_other" : "no_detach,allow_other"};
      break;
    case FuseDriver::kFuseiso:
      // -n: no $HOME/.mtab.fuseiso (the driver has no home).
      args = {"/usr/bin/fuseiso", "-n", "/image", "/mnt", "-f", "-o", ro};
      break;
    case FuseDriver::kExfat:
      // -d is its only way to stay in the foreground (the debug output goes
      // to /dev/null). Its fuseblk mount fails; libfuse then runs
      // fusermount, which is lxzone-fusermount there (fusermount_standin.cc).
      if (j.fusermount < 0) return ENODEV;
      args = {"/usr/sbin/mount.exfat-fuse", "-d", "-o", ro, "/image", "/mnt"};
      break;
  }
  char* argv[8];
  size_t a = 0;
  for (; a < args.size() && a < 7; a++) argv[a] = const_cast<char*>(args[a]);
  argv[a] = nullptr;
  struct clone_args ca = {};
  ca.exit_signal = 0;  // reaped here with __WALL; no SIGCHLD for Node's loop
  long pid = syscall(SYS_clone3, &ca, sizeof ca);
  if (pid < 0) return errno;
  if (pid == 0) {
    int err = helper_main(j, argv, &filter);
    syscall(SYS_exit_group, err > 255 || err < 0 ? EIO : err);
  }
  int status = 0;
  while (waitpid(static_cast<pid_t>(pid), &status, __WALL) < 0) {
    if (errno != EINTR) return ECHILD;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : EIO;
}

}  // namespace lxz
