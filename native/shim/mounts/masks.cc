#include "masks.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

#include "mount_calls.h"
#include "tmpfs_options.h"

namespace lxz {

Status hide_in_root(const std::string& root, const std::string& zone_path) {
  int target = -1;
  Status s = open_in_root(root, zone_path, &target);
  if (!s.ok()) return s.error().err == ENOENT ? Status{} : s;
  struct stat st;
  if (fstat(target, &st) < 0 || !S_ISDIR(st.st_mode)) {
    close(target);
    return Error{ENOTDIR, "hide " + zone_path + ": not a directory"};
  }
  int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
  if (fs < 0) s = sys_error("fsopen tmpfs");
  for (const char* kv : {"size=4k", "nr_inodes=16", "mode=0"}) {
    std::string k(kv, strchr(kv, '=') - kv), v(strchr(kv, '=') + 1);
    if (s.ok() && fsconfig(fs, FSCONFIG_SET_STRING, k.c_str(), v.c_str(), 0) < 0) s = sys_error("tmpfs " + std::string(kv));
  }
  if (s.ok() && fsconfig(fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) s = sys_error("create tmpfs over " + zone_path);
  int mnt = -1;
  if (s.ok() && (mnt = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC)) < 0)
    s = sys_error("fsmount tmpfs over " + zone_path);
  if (s.ok()) s = attach_at(mnt, target, "hide " + zone_path);
  if (mnt >= 0) close(mnt);
  if (fs >= 0) close(fs);
  close(target);
  return s;
}

Status mask_in_root(const std::string& root, const std::string& zone_path, const ShimConfig& c) {
  int target = -1;
  Status s = open_in_root(root, zone_path, &target);
  if (!s.ok()) return s.error().err == ENOENT ? Status{} : s;
  struct stat st;
  if (fstat(target, &st) < 0) s = sys_error("stat " + zone_path);
  int tree = -1;
  if (s.ok() && S_ISDIR(st.st_mode)) {
    int fs = fsopen("tmpfs", FSOPEN_CLOEXEC);
    std::string id = std::to_string(zone_root_id(c));
    if (fs < 0 || fsconfig(fs, FSCONFIG_SET_STRING, "size", c.tmp_size.c_str(), 0) < 0 ||
        fsconfig(fs, FSCONFIG_SET_STRING, "nr_inodes", nr_inodes_for(c.tmp_size).c_str(), 0) < 0 ||
        fsconfig(fs, FSCONFIG_SET_STRING, "mode", "0755", 0) < 0 || fsconfig(fs, FSCONFIG_SET_STRING, "uid", id.c_str(), 0) < 0 ||
        fsconfig(fs, FSCONFIG_SET_STRING, "gid", id.c_str(), 0) < 0 || fsconfig(fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0 ||
        (tree = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)) < 0)
      s = sys_error("mask " + zone_path);
    if (fs >= 0) close(fs);
  } else if (s.ok()) {
    tree = open_tree(AT_FDCWD, kDevNull, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    struct mount_attr attr = {};
    attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC;
    if (tree < 0 || mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) s = sys_error("mask " + zone_path);
  }
  if (s.ok()) s = attach_at(tree, target, zone_path);
  if (tree >= 0) close(tree);
  close(target);
  return s;
}

Status readonly_in_root(const std::string& root, const std::string& zone_path) {
  int target = -1;
  Status s = open_in_root(root, zone_path, &target);
  if (!s.ok()) return s.error().err == ENOENT ? Status{} : s;
  int tree = open_tree(target, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
  struct mount_attr attr = {};
  attr.attr_set = MOUNT_ATTR_RDONLY;
  if (tree < 0 || mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) s = sys_error("read-only " + zone_path);
  if (s.ok()) s = attach_at(tree, target, "read-only " + zone_path);
  if (tree >= 0) close(tree);
  close(target);
  return s;
}

}  // namespace lxz
