#include "uts_sysctl_files.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cerrno>

#include "mount_api.h"
#include "uts_fuse_protocol.h"

namespace lxz {
namespace {

// One FUSE file system whose root is a single regular file, made in the
// keeper's user namespace (the /dev/fuse file and the superblock must share
// it) before the server enters the zone's: detached, not yet anywhere.
Status make_file_mount(const ShimConfig& c, int fuse_fd, Fd* mount) {
  Fd fs(fsopen("fuse", FSOPEN_CLOEXEC));
  if (!fs.valid()) return sys_error("fsopen fuse");
  std::string id = std::to_string(uts_sysctl_file_owner(c));
  auto set = [&](const char* key, const std::string& value) -> Status {
    if (fsconfig(fs.get(), FSCONFIG_SET_STRING, key, value.c_str(), 0) < 0) return sys_error(std::string("fuse ") + key);
    return {};
  };
  LXZ_TRY(set("source", "lxzone"));
  LXZ_TRY(set("subtype", "lxzone"));
  LXZ_TRY(set("fd", std::to_string(fuse_fd)));
  LXZ_TRY(set("rootmode", "100644"));  // octal: the root is a regular file
  LXZ_TRY(set("user_id", id));
  LXZ_TRY(set("group_id", id));
  // Every process of the zone may open it (the kernel admits only processes
  // of the superblock's user namespace and below); the kernel checks the
  // file's mode (0644, the zone's root's) as for the real sysctl file.
  for (const char* flag : {"allow_other", "default_permissions"})
    if (fsconfig(fs.get(), FSCONFIG_SET_FLAG, flag, nullptr, 0) < 0) return sys_error(std::string("fuse ") + flag);
  if (fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) return sys_error("create the fuse file system");
  mount->reset(fsmount(fs.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC));
  if (!mount->valid()) return sys_error("fsmount fuse");
  return {};
}

// The detached mounts the keeper made, inherited by the zone process (a
// clone of the keeper): -1 when there are none.
int g_mounts[2] = {-1, -1};

// Over the kernel's file, in the tree the zone process builds. A read-only
// /proc/sys/kernel (an OCI bundle's readonlyPaths) stays read-only.
Status attach_over(int mount, const std::string& target) {
  Fd at(open(target.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!at.valid()) return sys_error("open " + target);
  struct statvfs sv;
  if (fstatvfs(at.get(), &sv) < 0) return sys_error("statvfs " + target);
  if (sv.f_flag & ST_RDONLY) {
    struct mount_attr attr = {};
    attr.attr_set = MOUNT_ATTR_RDONLY;
    if (syscall(SYS_mount_setattr, mount, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) return sys_error("read-only fuse mount");
  }
  if (move_mount(mount, "", at.get(), "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return sys_error("mount over " + target);
  return {};
}

}  // namespace

uint32_t uts_sysctl_file_owner(const ShimConfig& c) { return c.rootless ? 0 : c.id_base; }

Status make_uts_sysctl_files(const ShimConfig& c, UtsSysctlConnections* out) {
  for (int i = 0; i < 2; i++) {
    // Non-blocking: the keeper polls them, and a request may be withdrawn
    // (its caller interrupted) between a poll and a read.
    out->fuse[i].reset(open("/dev/fuse", O_RDWR | O_CLOEXEC | O_NONBLOCK));
    if (!out->fuse[i].valid()) return sys_error("open /dev/fuse");
    LXZ_TRY(make_file_mount(c, out->fuse[i].get(), &out->mounts[i]));
    LXZ_TRY(answer_fuse_init(out->fuse[i].get()));
  }
  return {};
}

void offer_uts_sysctl_mounts(Fd (&mounts)[2]) {
  for (int i = 0; i < 2; i++) g_mounts[i] = mounts[i].release();
}

void release_uts_sysctl_mounts() {
  for (int& m : g_mounts) {
    if (m >= 0) close(m);
    m = -1;
  }
}

Status attach_uts_sysctl_files(const std::string& root) {
  if (g_mounts[0] < 0) return {};
  Status s;
  for (int i = 0; i < 2; i++) {
    if (g_mounts[i] < 0) continue;
    if (s.ok()) s = attach_over(g_mounts[i], root + kUtsSysctlFiles[i].target);
    close(g_mounts[i]);
    g_mounts[i] = -1;
  }
  return s;
}

}  // namespace lxz
