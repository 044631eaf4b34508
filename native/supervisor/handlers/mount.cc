// mount(2) and umount2(2) in a zone: a block filesystem (ext2, ext3, ext4;
// vfat; squashfs; ntfs; iso9660) on one of the zone's own loop devices is mounted, served by
// fuse2fs (fusefat for vfat, squashfuse for squashfs, ntfs-3g, fuseiso; the table is fuse_driver_for) with
// the zone's privileges (fuse_mount.h), never by the host kernel; such a
// mount can be unmounted again. Everything else stays refused with EPERM, as
// before (the zone's other mounts are lxzone's, some read-only on purpose).
#include <dlfcn.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <algorithm>
#include <climits>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "../fuse_mount.h"
#include "../tracee_memory.h"
#include "../zone_mounts.h"
#include "handler.h"
#include "zone_caps.h"

namespace lxz {
namespace {

// Not ours to serve: the call goes on to the kernel, exactly as the profile
// let every mount go before (a CONTINUE re-reads nothing we decided on).
constexpr int kContinue = -1;

// Flags that only say how to mount, all honoured; anything else (remount,
// bind, move, propagation) is refused.
constexpr unsigned long kMsMagicMask = 0xffff0000;
constexpr unsigned long kMsMagic = 0xc0ed0000;
constexpr unsigned long kAllowed = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME |
                                   MS_RELATIME | MS_STRICTATIME | MS_SILENT | MS_LAZYTIME | MS_SYNCHRONOUS | MS_DIRSYNC;

// A path of the caller's, resolved as it would resolve it (its root, its
// cwd), never through /proc magic links; O_PATH.
int open_caller_path(Call& call, const std::string& path, int flags, bool follow, Fd* out) {
  if (path.empty()) return ENOENT;
  pid_t pid = static_cast<pid_t>(call.req.pid);
  Fd base;
  bool absolute = path[0] == '/';
  if (int err = open_tracee_proc(call.listener, call.req.id, pid, absolute ? "root" : "cwd", O_PATH | O_DIRECTORY, &base)) return err;
  struct open_how how = {};
  how.flags = static_cast<uint64_t>(O_PATH | O_CLOEXEC | flags);
  how.resolve = RESOLVE_NO_MAGICLINKS | (absolute ? RESOLVE_IN_ROOT : 0) | (follow ? 0 : RESOLVE_NO_SYMLINKS);
  out->reset(static_cast<int>(syscall(SYS_openat2, base.get(), absolute ? path.c_str() + 1 : path.c_str(), &how, sizeof how)));
  if (!out->valid()) return errno;
  return notification_valid(call.listener, call.req.id) ? 0 : ENOENT;
}

// The mount id of an fd from /proc/self/fdinfo: statx would ask the FUSE
// driver, which refuses the host (allow_other admits only the zone's user
// namespace) and which the supervisor must never wait on anyway.
uint64_t mount_id(int fd) {
  Fd info(open(("/proc/self/fdinfo/" + std::to_string(fd)).c_str(), O_RDONLY | O_CLOEXEC));
  char buf[512];
  ssize_t n = info.valid() ? read(info.get(), buf, sizeof buf - 1) : -1;
  if (n <= 0) return 0;
  buf[n] = 0;
  const char* at = std::strstr(buf, "mnt_id:");
  return at ? std::strtoull(at + 7, nullptr, 10) : 0;
}

// The caller's cgroup.procs (cgroup v2), for the driver to be charged to.
int open_cgroup_procs(Call& call, Fd* out) {
  std::string text = read_proc_file(call.listener, call.req.id, static_cast<pid_t>(call.req.pid), "cgroup", 4096);
  size_t at = text.find("0::/");
  if (at == std::string::npos) return ESRCH;
  std::string path = text.substr(at + 3, text.find('\n', at) - at - 3);
  if (path.find("/..") != std::string::npos) return EINVAL;
  // A zone without caps has no cgroup of its own (it shares its
  // launcher's, which may not be ours to enter): the driver stays in ours.
  out->reset(open(("/sys/fs/cgroup" + path + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC));
  return 0;
}

int open_namespaces(Call& call, CallerNamespaces* ns) {
  pid_t pid = static_cast<pid_t>(call.req.pid);
  if (int err = open_tracee_proc(call.listener, call.req.id, pid, "ns/user", O_RDONLY, &ns->user)) return err;
  return open_tracee_proc(call.listener, call.req.id, pid, "ns/mnt", O_RDONLY, &ns->mnt);
}

// lxzone-fusermount (beside this addon or shim in build/Release), O_PATH,
// and where the host's fusermount is in /usr/bin (the path libfuse 2 runs),
// relative to the driver's root: "usr/bin/fusermount3" where it is a link.
int open_fusermount_standin(Fd* out, std::string* at) {
  Dl_info info = {};
  std::string self;
  if (dladdr(reinterpret_cast<void*>(&open_fusermount_standin), &info) && info.dli_fname && std::strstr(info.dli_fname, ".node"))
    self = info.dli_fname;
  else {
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return ENODEV;
    self.assign(exe, static_cast<size_t>(n));
  }
  std::string path = self.substr(0, self.rfind('/') + 1) + "lxzone-fusermount";
  out->reset(open(path.c_str(), O_PATH | O_CLOEXEC | O_NOFOLLOW));
  if (!out->valid()) return ENODEV;
  char real[4096];
  if (!realpath("/usr/bin/fusermount", real) || std::strncmp(real, "/usr/bin/", 9) != 0) return ENODEV;
  *at = real + 1;
  return 0;
}

// The zone's loop device a source path names: its bind's mount id.
int loop_device_of(LoopState& st, int source_fd) {
  uint64_t id = mount_id(source_fd);
  for (int n = 0; n < kLoopCount; n++)
    if (st.dev[n].attached && id && st.dev[n].bind_mnt_id == id) return n;
  return -1;
}

int do_mount(Call& call) {
  const auto& a = call.req.data.args;
  pid_t pid = static_cast<pid_t>(call.req.pid);
  uint64_t mask = call.is_32bit() ? 0xffffffffull : ~0ull;
  unsigned long flags = static_cast<unsigned long>(a[3] & mask);
  if ((flags & kMsMagicMask) == kMsMagic) flags &= ~kMsMagicMask;
  if (flags & ~kAllowed) return kContinue;
  std::string fstype, source, target;
  if (!a[2] || read_tracee_string(call.listener, call.req.id, pid, a[2] & mask, 64, &fstype)) return kContinue;
  FuseDriver driver;
  bool read_only_type;
  if (!fuse_driver_for(fstype.c_str(), &driver, &read_only_type)) return kContinue;
  if (!caller_has_zone_capability(call, CAP_DAC_OVERRIDE)) return kContinue;
  if (!a[0] || read_tracee_string(call.listener, call.req.id, pid, a[0] & mask, kMaxTraceeString, &source)) return EFAULT;
  if (!a[1] || read_tracee_string(call.listener, call.req.id, pid, a[1] & mask, kMaxTraceeString, &target)) return EFAULT;
  Fd src, dst;
  if (int err = open_caller_path(call, source, 0, true, &src)) return err;
  LoopState& st = call.zone.loops;
  int n = loop_device_of(st, src.get());
  if (n < 0) return kContinue;  // not one of the zone's loop devices: the kernel decides
  if (int err = open_caller_path(call, target, O_DIRECTORY, true, &dst)) return err;
  CallerNamespaces ns;
  Fd procs;
  if (int err = open_namespaces(call, &ns)) return err;
  if (int err = open_cgroup_procs(call, &procs)) return err;
  unsigned long attr = 0;
  if (flags & MS_NOEXEC) attr |= MOUNT_ATTR_NOEXEC;
  if (flags & MS_NOATIME) attr |= MOUNT_ATTR_NOATIME;
  if (flags & MS_NODIRATIME) attr |= MOUNT_ATTR_NODIRATIME;
  if (flags & MS_STRICTATIME) attr |= MOUNT_ATTR_STRICTATIME;
  // squashfs and iso9660 are read-only by design, as the kernel mounts them.
  bool read_only = (flags & MS_RDONLY) || st.dev[n].read_only || read_only_type;
  FuseMountJob job{ns.user.get(), ns.mnt.get(), procs.get(), st.dev[n].backing.get(), dst.get(), read_only, attr, driver};
  job.filter = call.zone.options.driver_filter.data();
  job.filter_len = call.zone.options.driver_filter.size();
  Fd standin;
  std::string standin_at;
  if (driver == FuseDriver::kExfat) {
    if (int err = open_fusermount_standin(&standin, &standin_at)) return err;
    job.fusermount = standin.get();
    job.fusermount_at = standin_at.c_str();
  }
  if (int err = mount_fuse_in_zone(job)) return err == ETIMEDOUT ? EIO : err;
  // The new mount as the caller sees its target now.
  Fd now;
  if (open_caller_path(call, target, O_DIRECTORY, true, &now) == 0) {
    uint64_t id = mount_id(now.get());
    if (id && id != mount_id(dst.get())) st.mounts.push_back({id, n});
  }
  return 0;
}

int do_umount(Call& call, uint64_t path_arg, unsigned long flags) {
  pid_t pid = static_cast<pid_t>(call.req.pid);
  std::string target;
  if (!path_arg || read_tracee_string(call.listener, call.req.id, pid, path_arg, kMaxTraceeString, &target)) return kContinue;
  Fd fd;
  if (open_caller_path(call, target, 0, !(flags & UMOUNT_NOFOLLOW), &fd)) return kContinue;
  LoopState& st = call.zone.loops;
  uint64_t id = mount_id(fd.get());
  auto it = std::find_if(st.mounts.begin(), st.mounts.end(), [&](const BlockMount& m) { return m.mnt_id == id; });
  if (it == st.mounts.end()) return kContinue;  // not a filesystem mounted through us: the kernel decides
  if (!caller_has_zone_capability(call, CAP_DAC_OVERRIDE)) return EPERM;
  CallerNamespaces ns;
  if (int err = open_namespaces(call, &ns)) return err;
  // Detached: the driver ends once nothing in the zone uses the filesystem.
  if (int err = unmount_in_zone(ns, fd.get(), ".")) return err;
  st.mounts.erase(it);
  return 0;
}

}  // namespace

Reply handle_mount(Call& call) {
  int err = do_mount(call);
  if (err == kContinue) return Reply::cont();
  return err ? Reply::error_of(err) : Reply::value_of(0);
}

// umount2(target, flags), and i386's umount(target).
Reply handle_umount(Call& call) {
  const auto& a = call.req.data.args;
  uint64_t mask = call.is_32bit() ? 0xffffffffull : ~0ull;
  bool has_flags = call.abi_name() != "i386" || call.req.data.nr == 52;  // i386: 22 umount, 52 umount2
  int err = do_umount(call, a[0] & mask, has_flags ? static_cast<unsigned long>(a[1] & mask) : 0);
  if (err == kContinue) return Reply::cont();
  return err ? Reply::error_of(err) : Reply::value_of(0);
}

}  // namespace lxz
