#include "rootfs_idmap.h"

#include <fcntl.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cerrno>
#include <cstdint>

#include "id_mapping.h"

#ifndef MOUNT_ATTR_IDMAP
#define MOUNT_ATTR_IDMAP 0x00100000
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

namespace lxz {
namespace {

struct IdmapAttr {
  uint64_t attr_set;
  uint64_t attr_clr;
  uint64_t propagation;
  uint64_t userns_fd;
};

}  // namespace

Status mount_idmapped_rootfs(const ShimConfig& c, const std::string& host_root, const std::string& source,
                             const std::string& root, bool* mapped) {
  *mapped = false;
  int userns = -1;
  LXZ_TRY(idmap_userns(host_root + "/proc", zone_id_map(c), zone_id_map(c), &userns));
  int tree = static_cast<int>(syscall(SYS_open_tree, AT_FDCWD, source.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE));
  Status s;
  if (tree < 0) s = sys_error("open_tree of the rootfs");
  IdmapAttr attr = {};
  attr.attr_set = MOUNT_ATTR_IDMAP;
  attr.userns_fd = static_cast<uint64_t>(userns);
  if (s.ok() && syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0) {
    // EINVAL: a filesystem (or one of its submounts) that cannot be id-mapped.
    if (errno != EINVAL && errno != EPERM && errno != EOPNOTSUPP) s = sys_error("id-map the rootfs");
    close(tree);
    close(userns);
    return s;
  }
  if (s.ok() && syscall(SYS_move_mount, tree, "", AT_FDCWD, root.c_str(), MOVE_MOUNT_F_EMPTY_PATH) < 0)
    s = sys_error("attach the id-mapped rootfs");
  if (s.ok()) *mapped = true;
  if (tree >= 0) close(tree);
  close(userns);
  return s;
}

CreateAsZoneRoot::CreateAsZoneRoot(uint32_t id) {
  if (id == 0) return;
  // Dropping fsuid 0 drops the filesystem capabilities from the effective
  // set; going back to 0 raises them again from the permitted set.
  setfsgid(id);
  setfsuid(id);
  active_ = true;
}

CreateAsZoneRoot::~CreateAsZoneRoot() {
  if (!active_) return;
  setfsuid(0);
  setfsgid(0);
}

}  // namespace lxz
