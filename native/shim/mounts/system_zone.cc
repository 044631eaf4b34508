#include "system_zone.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>
#include <cerrno>

#include "../mounts.h"
#include "mount_calls.h"
#include "tmpfs_options.h"

namespace lxz {

Status mount_system_zone_parts(const std::string& root, const ShimConfig& c) {
  std::string dir = root + "/run/systemd";
  LXZ_TRY(make_dir(dir, 0755));
  std::string file = dir + "/container";
  int fd = open(file.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0444);
  if (fd < 0) return sys_error("create " + file);
  bool written = write(fd, "lxzone\n", 7) == 7;
  close(fd);
  if (!written) return sys_error("write " + file);
  uint32_t id = zone_root_id(c);
  if (chown(dir.c_str(), id, id) < 0 || chown(file.c_str(), id, id) < 0) return sys_error("chown " + dir);
  return {};
}

Status mount_zone_cgroup2() {
  if (!is_dir("/sys/fs/cgroup")) return Error{ENOENT, "no /sys/fs/cgroup in the zone's sysfs (a kernel without cgroups?)"};
  return do_mount("cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC);
}

}  // namespace lxz
