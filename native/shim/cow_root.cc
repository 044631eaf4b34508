#include "cow_root.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "id_mapping.h"
#include "../common/mountinfo.h"
#include "mount_api.h"
#include "proc_write.h"

namespace lxz {
namespace {

// Scratch-root paths (the build happens in a private tmpfs root; see mounts.cc).
constexpr const char* kLower = "/cow-lower";
constexpr const char* kUpper = "/cow-upper";

Status make_dir(const std::string& path, mode_t mode) {
  if (mkdir(path.c_str(), mode) < 0 && errno != EEXIST) return sys_error("mkdir " + path);
  return {};
}

// The host's root filesystem alone (no submounts: overlayfs does not cross
// them), id-mapped onto the zone's ids, attached at kLower.
Status attach_lower(const ShimConfig& c, const std::string& host_root) {
  int userns = -1;
  LXZ_TRY(idmap_userns(host_root + "/proc", zone_id_map(c), zone_id_map(c), &userns));
  int tree = static_cast<int>(syscall(SYS_open_tree, AT_FDCWD, host_root.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
  Status s;
  if (tree < 0) s = sys_error("open_tree of the host's root");
  struct mount_attr attr = {};
  attr.attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
  attr.userns_fd = static_cast<uint64_t>(userns);
  if (s.ok() && syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
    s = sys_error("id-map the host's root (the root filesystem must support id-mapped mounts)");
  if (s.ok()) s = make_dir(kLower, 0755);
  if (s.ok() && syscall(SYS_move_mount, tree, "", AT_FDCWD, kLower, MOVE_MOUNT_F_EMPTY_PATH) < 0)
    s = sys_error("attach the host's root as the lower layer");
  if (tree >= 0) close(tree);
  close(userns);
  return s;
}

// An image's layers (the image store's, shared by every zone of the image),
// each reached with no symlink on the way, cloned, id-mapped onto the zone's
// ids like the host's root above, read-only, attached at kLower-N.
// Rootless, the layers are the caller's own store's (every file the
// caller's, who is the zone's root): no id mapping (an unprivileged user
// cannot id-map the host's filesystem, and needs none), still read-only.
Status attach_layers(const ShimConfig& c, const std::string& host_root) {
  int userns = -1;
  if (!c.rootless) LXZ_TRY(idmap_userns(host_root + "/proc", zone_id_map(c), zone_id_map(c), &userns));
  Status s;
  for (size_t i = 0; s.ok() && i < c.root_cow_layers.size(); i++) {
    const std::string& layer = c.root_cow_layers[i];
    struct open_how how = {};
    how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
    how.resolve = RESOLVE_NO_SYMLINKS;
    std::string path = host_root + layer;
    int fd = static_cast<int>(syscall(SYS_openat2, AT_FDCWD, path.c_str(), &how, sizeof how));
    if (fd < 0) {
      s = sys_error("image layer " + layer);
      break;
    }
    int tree = static_cast<int>(syscall(SYS_open_tree, fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH));
    close(fd);
    if (tree < 0) {
      s = sys_error("open_tree " + layer);
      break;
    }
    struct mount_attr attr = {};
    attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
    if (userns >= 0) {
      attr.attr_set |= MOUNT_ATTR_IDMAP;
      attr.userns_fd = static_cast<uint64_t>(userns);
    }
    std::string at = std::string(kLower) + "-" + std::to_string(i);
    if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) s = sys_error("id-map image layer " + layer);
    if (s.ok()) s = make_dir(at, 0755);
    if (s.ok() && syscall(SYS_move_mount, tree, "", AT_FDCWD, at.c_str(), MOVE_MOUNT_F_EMPTY_PATH) < 0) s = sys_error("attach image layer " + layer);
    close(tree);
  }
  if (userns >= 0) close(userns);
  return s;
}

// The upper layer: the zone's directory (kept) or a tmpfs (gone with the
// zone). Either way on a filesystem other than the host's root, as overlayfs
// requires of layers that would otherwise nest.
Status attach_upper(const ShimConfig& c, const std::string& host_root) {
  LXZ_TRY(make_dir(kUpper, 0755));
  if (c.root_cow_dir.empty()) {
    // Bounded in inodes as well as bytes, like every tmpfs of a zone (mounts.cc).
    uint64_t bytes = std::strtoull(c.root_cow_size.c_str(), nullptr, 10);
    switch (c.root_cow_size.back()) {
      case 'g': bytes <<= 10; [[fallthrough]];
      case 'm': bytes <<= 10; [[fallthrough]];
      case 'k': bytes <<= 10; break;
      default: break;
    }
    std::string opts = "mode=0755,size=" + c.root_cow_size + ",nr_inodes=" + std::to_string(bytes / 4096 < 1024 ? 1024 : bytes / 4096);
    if (mount("tmpfs", kUpper, "tmpfs", MS_NOSUID | MS_NODEV, opts.c_str()) < 0)
      return sys_error("mount the copy-on-write tmpfs");
    LXZ_TRY(make_dir(std::string(kUpper) + "/upper", 0755));
    LXZ_TRY(make_dir(std::string(kUpper) + "/work", 0700));
  } else {
    // Reached with no symlink on the way: the directory is the caller's (the
    // zone's state), but a link there must not choose the upper layer.
    struct open_how how = {};
    how.flags = O_PATH | O_CLOEXEC;
    how.resolve = RESOLVE_NO_SYMLINKS;
    std::string path = host_root + c.root_cow_dir;
    int fd = static_cast<int>(syscall(SYS_openat2, AT_FDCWD, path.c_str(), &how, sizeof how));
    if (fd < 0) return sys_error("copy-on-write directory " + c.root_cow_dir);
    int tree = static_cast<int>(syscall(SYS_open_tree, fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH));
    close(fd);
    if (tree < 0) return sys_error("open_tree " + c.root_cow_dir);
    Status s;
    if (syscall(SYS_move_mount, tree, "", AT_FDCWD, kUpper, MOVE_MOUNT_F_EMPTY_PATH) < 0) s = sys_error("attach " + c.root_cow_dir);
    close(tree);
    LXZ_TRY(s);
    LXZ_TRY(make_dir(std::string(kUpper) + "/upper", 0755));
    LXZ_TRY(make_dir(std::string(kUpper) + "/work", 0700));
  }
  // The merged root takes the upper root's owner: the zone's root, as the
  // host's root owns "/" natively (rootless: made by the zone's root already).
  if (!c.rootless && chown((std::string(kUpper) + "/upper").c_str(), c.id_base, c.id_base) < 0) return sys_error("chown the upper layer");
  return {};
}

// The host's other filesystems (those mounted on its root, except the ones a
// zone gets fresh copies of) stay visible as in a read-only zone: bound
// read-only over the overlay, not copy-on-write.
Status bind_host_submounts(const std::string& host_root, const std::string& root, const std::vector<std::string>& hide) {
  std::vector<MountEntry> mounts = read_mountinfo(host_root + "/proc/self/mountinfo");
  std::string root_id;
  for (const MountEntry& m : mounts)
    if (m.point == host_root) root_id = m.id;
  if (root_id.empty()) return Error{ENOENT, "the host's root in mountinfo"};
  for (const MountEntry& m : mounts) {
    const std::string& point = m.point;
    if (m.parent != root_id || point.rfind(host_root + "/", 0) != 0) continue;
    std::string rel = point.substr(host_root.size());
    bool fresh = false;
    for (const char* d : {"/proc", "/sys", "/dev", "/run", "/tmp"}) fresh |= path_at_or_under(rel, d);
    // lxzone's own directories are hidden in the zone: a copy of a mount
    // there (another zone's disk) would only keep that filesystem alive.
    for (const std::string& h : hide) fresh |= path_at_or_under(rel, h);
    if (fresh) continue;
    int tree = static_cast<int>(syscall(SYS_open_tree, AT_FDCWD, point.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE));
    if (tree < 0) return sys_error("open_tree " + rel);
    struct mount_attr attr = {};
    attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
    Status s;
    if (syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0) s = sys_error("mount_setattr " + rel);
    // A mount point the zone removed from its copy is simply not shown again.
    if (s.ok() && syscall(SYS_move_mount, tree, "", AT_FDCWD, (root + rel).c_str(), MOVE_MOUNT_F_EMPTY_PATH) < 0 && errno != ENOENT)
      s = sys_error("bind " + rel);
    close(tree);
    LXZ_TRY(s);
  }
  return {};
}

}  // namespace

Status mount_cow_root(const ShimConfig& c, const std::string& host_root, const std::string& root) {
  const bool image = !c.root_cow_layers.empty();
  std::string lower;
  if (image) {
    LXZ_TRY(attach_layers(c, host_root));
    // overlayfs lists lower layers top first; the store gives them lowest first.
    for (size_t i = c.root_cow_layers.size(); i-- > 0;)
      lower += (lower.empty() ? "" : ":") + std::string(kLower) + "-" + std::to_string(i);
  } else {
    LXZ_TRY(attach_lower(c, host_root));
    lower = kLower;
  }
  LXZ_TRY(attach_upper(c, host_root));
  std::string data = "lowerdir=" + lower + ",upperdir=" + kUpper + "/upper,workdir=" + kUpper + "/work";
  // Rootless: overlayfs inside the zone's user namespace reads and writes its
  // whiteout and opaque markers as user.overlay.* (trusted.* is host root's);
  // the rootless store marks its layers that way (src/zone/image/store/layers.ts).
  if (c.rootless) data += ",userxattr";
  if (mount("overlay", root.c_str(), "overlay", MS_NOSUID | MS_NODEV, data.c_str()) < 0)
    return sys_error(image ? "mount the image's layers (overlay)" : "mount the copy-on-write root (overlay)");
  return image ? Status{} : bind_host_submounts(host_root, root, c.hide);
}

}  // namespace lxz
