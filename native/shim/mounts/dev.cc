#include "dev.h"

#include <sys/mount.h>
#include <initializer_list>
#include <vector>

#include "mount_calls.h"
#include "mount_targets.h"
#include "proc_sys.h"
#include "tmpfs_options.h"

namespace lxz {
namespace {

std::vector<std::string> loop_node_names() {
  std::vector<std::string> names{"loop-control"};
  for (int n = 0; n < 8; n++) names.push_back("loop" + std::to_string(n));
  return names;
}

}  // namespace

Status mount_dev(const std::string& root, const ShimConfig& c) {
  std::string dev = root + "/dev";
  LXZ_TRY(make_dir(dev, 0755));
  LXZ_TRY(mount_unmasked_views(dev));
  LXZ_TRY(do_mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k,nr_inodes=64"));
  // The usual character devices, bound from the host: nothing else exists.
  for (const char* name : {"null", "zero", "full", "random", "urandom", "tty"}) {
    std::string target = dev + "/" + name;
    LXZ_TRY(make_file(target));
    std::string source = std::string(kOldRoot) + "/dev/" + name;
    LXZ_TRY(do_mount(source.c_str(), target, nullptr, MS_BIND));
    LXZ_TRY(do_mount(nullptr, target, nullptr, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NOEXEC));
  }
  // The zone's own loop devices: binds of /dev/null (open like a device, read
  // as empty), each its own mount, which is how the supervisor knows them when
  // a LOOP_* ioctl names one (native/supervisor/loop_devices.h). Attaching a
  // file binds it over the node; the host's loop driver is never involved.
  for (const std::string& name : loop_node_names()) {
    std::string target = dev + "/" + name;
    LXZ_TRY(make_file(target));
    LXZ_TRY(do_mount(kDevNull, target, nullptr, MS_BIND));
    LXZ_TRY(do_mount(nullptr, target, nullptr, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NOEXEC));
  }
  LXZ_TRY(make_dir(dev + "/pts", 0755));
  LXZ_TRY(do_mount("devpts", dev + "/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                   c.rootless ? "newinstance,ptmxmode=0666,mode=0620"
                              : "newinstance,ptmxmode=0666,mode=0620,gid=" + std::to_string(c.id_base + 5)));
  LXZ_TRY(make_symlink("pts/ptmx", dev + "/ptmx"));
  LXZ_TRY(make_dir(dev + "/shm", 01777));
  // Its source reads "shm", as runc and Docker name it (OCI configs list it so).
  LXZ_TRY(do_mount("shm", dev + "/shm", "tmpfs", MS_NOSUID | MS_NODEV,
                   sized_tmpfs("1777", c.tmp_size) + "," + id_options(c)));
  LXZ_TRY(make_dir(dev + "/mqueue", 01777));
  LXZ_TRY(do_mount("mqueue", dev + "/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC));
  LXZ_TRY(make_symlink("/proc/self/fd", dev + "/fd"));
  LXZ_TRY(make_symlink("/proc/self/fd/0", dev + "/stdin"));
  LXZ_TRY(make_symlink("/proc/self/fd/1", dev + "/stdout"));
  LXZ_TRY(make_symlink("/proc/self/fd/2", dev + "/stderr"));
  // syslog(3) writes to /dev/log, SysV tools to /dev/initctl: a system zone's
  // journald and systemd listen there (their socket units would make the
  // links, but the zone's /dev is read-only).
  if (c.system) {
    LXZ_TRY(make_symlink("/run/systemd/journal/dev-log", dev + "/log"));
    LXZ_TRY(make_symlink("/run/initctl", dev + "/initctl"));
  }
  // A system zone's console: the zone's terminal is bound here once it exists
  // (open_zone_tty); the file must be made before /dev turns read-only.
  if (c.system) LXZ_TRY(make_file(dev + "/console"));
  LXZ_TRY(make_dev_targets(root, c));
  // Nothing may be created in /dev afterwards.
  return do_mount(nullptr, dev, nullptr, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k,nr_inodes=64");
}

}  // namespace lxz
