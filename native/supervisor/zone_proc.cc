#include "zone_proc.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cerrno>
#include <string>

namespace lxz {
namespace {

int openat2_fd(int dir, const char* path, uint64_t flags, uint64_t resolve) {
  struct open_how how = {};
  how.flags = flags | O_CLOEXEC;
  how.resolve = resolve;
  return static_cast<int>(syscall(SYS_openat2, dir, path, &how, sizeof how));
}

bool same_inode(const struct stat& a, const struct stat& b) { return a.st_dev == b.st_dev && a.st_ino == b.st_ino; }

// The procfs's pid 1 is in `init`'s pid namespace (or, for a process exec'd
// into the zone before it forked, the one its children go to). Resolved in
// the procfs alone: no symlink, no other mount on the way to the ns directory.
bool proc_is_of(int proc, pid_t init) {
  Fd ns(openat2_fd(proc, "1/ns", O_PATH | O_DIRECTORY, RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_SYMLINKS));
  struct stat got, want;
  if (!ns.valid() || fstatat(ns.get(), "pid", &got, 0) < 0) return false;
  std::string base = "/proc/" + std::to_string(init) + "/ns/";
  if (stat((base + "pid").c_str(), &want) == 0 && same_inode(got, want)) return true;
  return stat((base + "pid_for_children").c_str(), &want) == 0 && same_inode(got, want);
}

}  // namespace

Fd open_zone_proc(pid_t init_pid) {
  if (init_pid <= 0) return Fd();
  // Held across the checks: if init is still alive after them, its pid named
  // the same process throughout.
  Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, init_pid, 0)));
  if (!pidfd.valid()) return Fd();
  std::string root_path = "/proc/" + std::to_string(init_pid) + "/root";
  Fd root(open(root_path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) return Fd();
  Fd proc(openat2_fd(root.get(), "proc", O_RDONLY | O_DIRECTORY,
                     RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS));
  struct statfs sfs;
  if (!proc.valid() || fstatfs(proc.get(), &sfs) < 0 || sfs.f_type != PROC_SUPER_MAGIC) return Fd();
  if (!proc_is_of(proc.get(), init_pid)) return Fd();
  struct pollfd p = {pidfd.get(), POLLIN, 0};
  if (poll(&p, 1, 0) != 0) return Fd();  // init exited meanwhile (or poll failed)
  return proc;
}

unsigned count_zone_processes(int proc_dir, unsigned limit) {
  if (lseek(proc_dir, 0, SEEK_SET) < 0) return 1;
  alignas(8) char buf[16384];
  unsigned n = 0;
  for (;;) {
    long got = syscall(SYS_getdents64, proc_dir, buf, sizeof buf);
    if (got <= 0) break;
    for (long off = 0; off < got;) {
      // struct linux_dirent64: ino (8), off (8), reclen (2), type (1), name
      unsigned short reclen;
      __builtin_memcpy(&reclen, buf + off + 16, sizeof reclen);
      char first = buf[off + 19];
      if (first >= '1' && first <= '9' && ++n >= limit) return limit;
      if (reclen == 0) return n;
      off += reclen;
    }
  }
  return n ? n : 1;
}

}  // namespace lxz
