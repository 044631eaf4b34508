// ustat(2), obsolete (statfs replaced it) but still in the x86 tables (illumos
// LX emulated it too): free blocks and inodes of the filesystem on a device.
// Linux looks the device up among every superblock of the host; a zone sees
// only the filesystems mounted where it can see them: the caller's own
// mounts (its /proc/PID/mountinfo), anything else is EINVAL, as for a device
// with no filesystem.
//
// The filesystem is reached without following the zone: the caller's root
// is its /proc/PID/root (opened, then the call checked pending), and a mount
// point below it is opened with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS
// | RESOLVE_NO_MAGICLINKS), O_PATH, and kept only if its device is the one
// asked for. A path through a FUSE mount is not walked (its server, maybe the
// zone's own, could hold the supervisor's thread), nor statfs'd: EINVAL.
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "../../common/mountinfo.h"
#include "../tracee_memory.h"
#include "handler.h"

namespace lxz {
namespace {

// The walk to `target` crosses (or ends on) a FUSE mount.
bool through_fuse(const std::vector<MountEntry>& mounts, const std::string& target) {
  for (const MountEntry& m : mounts)
    if (m.fstype.compare(0, 4, "fuse") == 0 && path_at_or_under(target, m.point)) return true;
  return false;
}

// struct ustat on 64-bit ABIs and struct compat_ustat on i386.
struct Ustat64 {
  int32_t f_tfree;
  uint64_t f_tinode;
  char f_fname[6];
  char f_fpack[6];
};
static_assert(sizeof(Ustat64) == 32, "struct ustat");
struct Ustat32 {
  int32_t f_tfree;
  uint32_t f_tinode;
  char f_fname[6];
  char f_fpack[6];
};
static_assert(sizeof(Ustat32) == 20, "struct compat_ustat");

// statfs of the filesystem on `dev` as the caller sees it: 0 or an errno.
int statfs_of(Call& call, dev_t dev, struct statfs* out) {
  pid_t pid = static_cast<pid_t>(call.req.pid);
  Fd root;
  if (int err = open_tracee_proc(call.listener, call.req.id, pid, "root", O_PATH | O_DIRECTORY, &root)) return err;
  std::string info = read_proc_file(call.listener, call.req.id, pid, "mountinfo", 1 << 20);
  std::vector<MountEntry> mounts = parse_mountinfo(info);
  int tried = 0;
  for (const MountEntry& m : mounts) {
    if (m.dev != dev) continue;
    if (++tried > 16) break;  // bounded, whatever the zone mounted
    if (through_fuse(mounts, m.point)) continue;
    struct open_how how = {};
    how.flags = O_PATH | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    Fd fd(static_cast<int>(syscall(SYS_openat2, root.get(), m.point.c_str(), &how, sizeof how)));
    struct stat st;
    if (!fd.valid() || fstat(fd.get(), &st) < 0 || st.st_dev != dev) continue;
    if (fstatfs(fd.get(), out) < 0) continue;
    return 0;
  }
  return EINVAL;
}

}  // namespace

Reply handle_ustat(Call& call) {
  const auto& a = call.req.data.args;
  uint32_t raw = static_cast<uint32_t>(a[0]);
  // new_decode_dev(): the 32-bit encoding of a dev_t.
  dev_t dev = makedev((raw & 0xfff00) >> 8, (raw & 0xff) | ((raw >> 12) & 0xfff00));
  struct statfs sfs;
  int err = statfs_of(call, dev, &sfs);
  if (err) return Reply::error_of(err);
  pid_t pid = static_cast<pid_t>(call.req.pid);
  if (call.is_32bit()) {
    Ustat32 u = {};
    u.f_tfree = static_cast<int32_t>(sfs.f_bfree);
    u.f_tinode = static_cast<uint32_t>(sfs.f_ffree);
    err = write_tracee(call.listener, call.req.id, pid, a[1] & 0xffffffffull, &u, sizeof u);
  } else {
    Ustat64 u = {};
    u.f_tfree = static_cast<int32_t>(sfs.f_bfree);
    u.f_tinode = sfs.f_ffree;
    err = write_tracee(call.listener, call.req.id, pid, a[1], &u, sizeof u);
  }
  if (err) return Reply::error_of(err == ENOENT ? ENOENT : EFAULT);
  return Reply::value_of(0);
}

}  // namespace lxz
