#include "proc_sys.h"

#include <sys/mount.h>
#include <unistd.h>
#include <initializer_list>

#include "mount_calls.h"
#include "tmpfs_options.h"

namespace lxz {

Status mount_proc(const std::string& root) {
  std::string proc = root + "/proc";
  LXZ_TRY(make_dir(proc, 0555));
  LXZ_TRY(do_mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC));
  // Docker's masked paths: files that describe or drive the host kernel. Each
  // is /dev/null, as in Docker: it reads as empty and swallows writes. Its
  // mount is not nodev (on a nodev mount opening a device is EACCES, which is
  // not what a masked file says natively); it is locked, read-only, and is
  // that one device node, nothing a zone can create or replace.
  // /proc/config.gz is not masked (Docker does not either): it is the
  // configuration of the kernel the zone runs on, readable by every host
  // user, and programs read it to learn what the kernel supports.
  for (const char* f : {"kcore", "keys", "timer_list", "sched_debug", "latency_stats", "kallsyms", "kpageflags",
                        "kpagecount", "kpagecgroup", "sysrq-trigger", "vmallocinfo"}) {
    std::string path = proc + "/" + f;
    if (access(path.c_str(), F_OK) != 0) continue;
    LXZ_TRY(do_mount(kDevNull, path, nullptr, MS_BIND));
    LXZ_TRY(do_mount(nullptr, path, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC));
  }
  for (const char* d : {"acpi", "scsi", "asound", "driver"}) {
    std::string path = proc + "/" + d;
    if (!is_dir(path)) continue;
    LXZ_TRY(do_mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, kMaskTmpfs));
  }
  // Docker's read-only paths: host-global knobs.
  for (const char* d : {"sys", "irq", "bus", "fs"}) {
    std::string path = proc + "/" + d;
    if (!is_dir(path)) continue;
    LXZ_TRY(do_mount(path.c_str(), path, nullptr, MS_BIND | MS_REC));
    LXZ_TRY(set_recursive_attrs(path, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC));
  }
  // ...except where the settings of the zone's own namespaces live (its
  // network, IPC and mqueue settings: net/*, kernel.shm*, msg*, sem,
  // fs.mqueue.*), which its user namespace owns and its root may write. The
  // host-global settings beside them in kernel/ and fs/ stay refused: the
  // kernel lets only the host's root (uid 0 of the host) write them, with no
  // capability override (proc_sys_permission), and no zone maps that uid. The
  // per-namespace files cannot be bound one by one: each name resolves to the
  // caller's namespace, so a nested namespace would not find the mount point.
  for (const char* f : {"sys/net", "sys/kernel", "sys/fs"}) {
    std::string path = proc + "/" + f;
    if (access(path.c_str(), F_OK) != 0) continue;
    LXZ_TRY(do_mount(path.c_str(), path, nullptr, MS_BIND | MS_REC));
    LXZ_TRY(do_mount(nullptr, path, nullptr, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC));
  }
  return {};
}

Status mount_unmasked_views(const std::string& dev) {
  LXZ_TRY(do_mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700,size=4k,nr_inodes=8"));
  LXZ_TRY(make_dir(dev + "/proc", 0500));
  LXZ_TRY(make_dir(dev + "/sys", 0500));
  LXZ_TRY(do_mount("proc", dev + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC));
  return do_mount("sysfs", dev + "/sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
}

Status mount_sys(const std::string& root) {
  std::string sys = root + "/sys";
  if (!is_dir(sys)) return {};
  LXZ_TRY(do_mount("sysfs", sys, "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC));
  for (const char* d : {"firmware", "kernel/security", "kernel/debug", "devices/virtual/powercap"}) {
    std::string path = sys + "/" + d;
    if (!is_dir(path)) continue;
    LXZ_TRY(do_mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, kMaskTmpfs));
  }
  return {};
}

}  // namespace lxz
