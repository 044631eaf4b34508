#include "mount_targets.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>

#include "../rootfs_idmap.h"
#include "mount_calls.h"

namespace lxz {
namespace {

// Who mount targets missing in the zone's root are created as: host root (0),
// or, on an id-mapped OCI rootfs, the zone's root (rootfs_idmap.h).
uint32_t g_targets_owner = 0;

bool under_dev(const std::string& zone_path) { return zone_path.rfind("/dev/", 0) == 0; }

bool source_is_dir(const BindMount& b) {
  struct stat st;
  return stat((std::string(kOldRoot) + b.source).c_str(), &st) != 0 || S_ISDIR(st.st_mode);
}

}  // namespace

void set_mount_targets_owner(uint32_t id) { g_targets_owner = id; }

Status make_target_in_root(const std::string& root, const std::string& zone_path, bool directory) {
  int dir = -1;
  LXZ_TRY(open_how(AT_FDCWD, root, RESOLVE_NO_SYMLINKS, &dir, "open " + root));
  // After the open: the scratch root above it is host root's alone (0700).
  CreateAsZoneRoot as_zone_root(g_targets_owner);
  Status s;
  size_t pos = 1;
  while (s.ok()) {
    size_t slash = zone_path.find('/', pos);
    bool last = slash == std::string::npos;
    std::string name = zone_path.substr(pos, last ? std::string::npos : slash - pos);
    pos = slash + 1;
    if (name.empty()) {
      if (last) break;
      continue;
    }
    int r = (last && !directory) ? openat(dir, name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644)
                                 : mkdirat(dir, name.c_str(), 0755);
    if (r >= 0 && last && !directory) close(r);
    if (r < 0 && errno != EEXIST) {
      s = Error{errno, "create mount target " + zone_path + " in the zone's root"};
      break;
    }
    if (last) break;
    int next = -1;
    s = open_how(dir, name, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS, &next, "mount target " + zone_path);
    close(dir);
    dir = next;
  }
  if (dir >= 0) close(dir);
  return s;
}

Status make_mount_targets(const std::string& root, const ShimConfig& c) {
  auto missing = [&](const std::string& path) {
    if (under_dev(path)) return false;
    int fd = -1;
    Status s = open_in_root(root, path, &fd);
    if (fd >= 0) close(fd);
    return !s.ok() && s.error().err == ENOENT;
  };
  for (const TmpfsMount& t : c.tmpfs)
    if (missing(t.target)) LXZ_TRY(make_target_in_root(root, t.target, true));
  for (const BindMount& b : c.binds) {
    if (!missing(b.target)) continue;
    LXZ_TRY(make_target_in_root(root, b.target, source_is_dir(b)));
  }
  return {};
}

Status make_dev_targets(const std::string& root, const ShimConfig& c) {
  // The zone's /dev is host root's (its device nodes are binds of the host's).
  uint32_t owner = g_targets_owner;
  g_targets_owner = 0;
  Status s;
  for (const TmpfsMount& t : c.tmpfs)
    if (s.ok() && under_dev(t.target)) s = make_target_in_root(root, t.target, true);
  for (const BindMount& b : c.binds)
    if (s.ok() && under_dev(b.target)) s = make_target_in_root(root, b.target, source_is_dir(b));
  g_targets_owner = owner;
  return s;
}

}  // namespace lxz
