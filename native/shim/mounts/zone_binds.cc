#include "zone_binds.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstdio>

#include "../id_mapping.h"
#include "mount_calls.h"
#include "mount_targets.h"
#include "tmpfs_options.h"

namespace lxz {

Status bind_into_root(const std::string& root, const std::string& host_path, const std::string& zone_path,
                      bool readonly, bool recursive, int idmap_userns) {
  int src = -1, target = -1;
  LXZ_TRY(open_how(AT_FDCWD, std::string(kOldRoot) + host_path, RESOLVE_NO_SYMLINKS, &src, "bind source " + host_path));
  Status s = open_in_root(root, zone_path, &target);
  if (!s.ok() && s.error().err == ENOENT) {
    struct stat st;
    bool directory = fstat(src, &st) == 0 && S_ISDIR(st.st_mode);
    s = make_target_in_root(root, zone_path, directory);
    if (s.ok()) s = open_in_root(root, zone_path, &target);
  }
  if (!s.ok()) {
    close(src);
    return s;
  }
  int tree = open_tree(src, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0));
  close(src);
  if (tree < 0) {
    close(target);
    return sys_error("open_tree " + host_path);
  }
  struct mount_attr attr = {};
  attr.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (readonly ? MOUNT_ATTR_RDONLY : 0);
  if (idmap_userns >= 0) {
    attr.attr_set |= MOUNT_ATTR_IDMAP;
    attr.userns_fd = static_cast<uint64_t>(idmap_userns);
  }
  if (mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
    s = sys_error((idmap_userns >= 0 ? "id-map volume " : "mount_setattr ") + host_path);
  if (s.ok()) s = attach_at(tree, target, zone_path);
  close(tree);
  close(target);
  return s;
}

Status tmpfs_into_root(const std::string& root, const TmpfsMount& t, const ShimConfig& c) {
  int target = -1;
  Status opened = open_in_root(root, t.target, &target);
  if (!opened.ok() && opened.error().err == ENOENT) {
    // runc makes a missing destination; here only where the root is writable.
    LXZ_TRY(make_target_in_root(root, t.target, true));
    opened = open_in_root(root, t.target, &target);
  }
  LXZ_TRY(opened);
  char mode[16];
  snprintf(mode, sizeof mode, "%o", t.mode);
  int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
  Status s;
  if (fs < 0) s = sys_error("fsopen tmpfs");
  auto set = [&](const char* key, const std::string& value) {
    if (s.ok() && fsconfig(fs, FSCONFIG_SET_STRING, key, value.c_str(), 0) < 0) s = sys_error(std::string("tmpfs ") + key + "=" + value);
  };
  // Shown as the mount's source (the new mount API leaves it "none"); runc's read "tmpfs".
  set("source", "tmpfs");
  set("size", t.size);
  set("nr_inodes", nr_inodes_for(t.size));
  set("mode", mode);
  set("uid", std::to_string(zone_root_id(c)));
  set("gid", std::to_string(zone_root_id(c)));
  if (s.ok() && fsconfig(fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) s = sys_error("create tmpfs " + t.target);
  int mnt = -1;
  unsigned attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (t.noexec ? MOUNT_ATTR_NOEXEC : 0);
  if (s.ok() && (mnt = fsmount(fs, FSMOUNT_CLOEXEC, attrs)) < 0) s = sys_error("fsmount tmpfs");
  if (s.ok()) s = attach_at(mnt, target, t.target);
  if (mnt >= 0) close(mnt);
  if (fs >= 0) close(fs);
  close(target);
  return s;
}

Status bind_zone_volumes(const std::string& root, const ShimConfig& c) {
  // Volumes keep zone ids as they are (0 is the zone's root): one
  // id-mapping namespace, the zone's map, for all of them.
  int userns = -1;
  for (const BindMount& b : c.binds)
    if (b.idmap && userns < 0) LXZ_TRY(idmap_userns(std::string(kOldRoot) + "/proc", zone_id_map(c), zone_id_map(c), &userns));
  Status s;
  for (const BindMount& b : c.binds) {
    s = bind_into_root(root, b.source, b.target, b.readonly, true, b.idmap ? userns : -1);
    if (!s.ok()) break;
  }
  if (userns >= 0) close(userns);
  return s;
}

}  // namespace lxz
