// The zone's filesystem in the order it is built; each part is a file of
// mounts/ (dev, proc_sys, zone_binds, masks, ...), the calls they share are
// mounts/mount_calls.h.
#include "mounts.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cerrno>
#include <initializer_list>
#include <string>

#include "cow_root.h"
#include "rootfs_idmap.h"
#include "uts_sysctl_files.h"
#include "mounts/dev.h"
#include "mounts/host_copies.h"
#include "mounts/hosts_file.h"
#include "mounts/masks.h"
#include "mounts/mount_calls.h"
#include "mounts/mount_targets.h"
#include "mounts/proc_sys.h"
#include "mounts/system_zone.h"
#include "mounts/tmpfs_options.h"
#include "mounts/zone_binds.h"

namespace lxz {
namespace {

Status mount_scratch(const std::string& path, const ShimConfig& c, const char* mode) {
  if (!is_dir(path)) return {};
  detach_all(path);
  return do_mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV,
                  sized_tmpfs(mode, c.tmp_size) + "," + id_options(c));
}

}  // namespace

Status build_zone_filesystem(const ShimConfig& c) {
  // Nothing we mount may propagate back to the host.
  LXZ_TRY(do_mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE));

  // A scratch tmpfs becomes our root for the build; the host's tree stays
  // reachable under /oldroot, so paths under the host's /tmp still resolve.
  LXZ_TRY(do_mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700,size=64k,nr_inodes=64"));
  if (chdir("/tmp") < 0) return sys_error("chdir scratch");
  LXZ_TRY(make_dir("oldroot", 0700));
  LXZ_TRY(make_dir("newroot", 0755));
  if (syscall(SYS_pivot_root, ".", "oldroot") < 0) return sys_error("pivot_root into scratch");
  if (chdir("/") < 0) return sys_error("chdir /");

  const std::string root = kNewRoot;
  std::string source = std::string(kOldRoot) + (c.rootfs.empty() ? "" : c.rootfs);
  {
    // No symlink on the way to a directory root: whoever could change one
    // would choose the zone's root (and a link resolved here, in the scratch
    // root, would not even point where it did on the host).
    int fd = -1;
    std::string shown = c.rootfs.empty() ? std::string("/") : c.rootfs;
    Status opened = open_how(AT_FDCWD, source, RESOLVE_NO_SYMLINKS, &fd, "rootfs " + shown);
    if (!opened.ok()) {
      if (opened.error().err == ELOOP) return Error{ELOOP, "rootfs " + shown + " goes through a symlink"};
      return opened;
    }
    struct stat st;
    bool dir = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
    close(fd);
    if (!dir) return Error{ENOTDIR, "rootfs " + shown};
  }
  if (c.root_cow) {
    // Its submounts come read-only already; the overlay itself stays writable.
    LXZ_TRY(mount_cow_root(c, kOldRoot, root));
    detach_unseen(root, c.hide);
    LXZ_TRY(set_recursive_attrs(root, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV));
  } else {
    bool mapped = false;
    if (c.rootfs_idmap) LXZ_TRY(mount_idmapped_rootfs(c, kOldRoot, source, root, &mapped));
    if (mapped) set_mount_targets_owner(c.id_base);
    else LXZ_TRY(do_mount(source.c_str(), root, nullptr, MS_BIND | MS_REC));
    // The zone gets its own copies of these; the host's must not show through.
    // Whole trees first (a host's /sys takes its cgroups along), then what
    // is left below the ones that are no mount of their own (/run, /tmp).
    for (const char* d : {"/proc", "/sys", "/dev", "/run", "/tmp"}) detach_all(root + d);
    detach_unseen(root, c.hide);
    // An OCI bundle's mount destinations are made before its root turns
    // read-only (runc's order): the rootfs is the container's own.
    if (c.rootfs_idmap) LXZ_TRY(make_mount_targets(root, c));
    uint64_t attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (c.rootfs_writable ? 0 : MOUNT_ATTR_RDONLY);
    LXZ_TRY(set_recursive_attrs(root, attrs));
  }

  // The zone's own writable places first, so that mounts may go under them.
  LXZ_TRY(mount_scratch(root + "/tmp", c, "1777"));
  LXZ_TRY(mount_scratch(root + "/run", c, "0755"));
  // On the host's root, the zone's root gets a home of its own (the host's
  // /root is not its to read, and it would not be able to anyway).
  if (c.rootfs.empty() && c.root_cow_layers.empty()) LXZ_TRY(mount_scratch(root + "/root", c, "0700"));
  LXZ_TRY(zone_hosts_file(root, c));

  // lxzone's own /proc, /dev and /sys, in the order runc's default config
  // lists them; the zone's configured mounts after them, so that one under
  // /dev (or over a file of /proc) is not covered by them.
  LXZ_TRY(mount_proc(root));
  LXZ_TRY(attach_uts_sysctl_files(root));
  LXZ_TRY(mount_dev(root, c));
  LXZ_TRY(mount_sys(root));
  if (c.system) LXZ_TRY(mount_system_zone_parts(root, c));
  // The zone's own view of /proc (and /sys cpu files), over the fresh mounts.
  for (const BindMount& b : c.proc_binds) LXZ_TRY(bind_into_root(root, b.source, b.target, true, false));

  for (const TmpfsMount& t : c.tmpfs) LXZ_TRY(tmpfs_into_root(root, t, c));
  LXZ_TRY(bind_zone_volumes(root, c));
  // After the binds: a bind of a directory above lxzone's state shows it too.
  for (const std::string& h : c.hide) LXZ_TRY(hide_in_root(root, h));
  // runc's order: read-only paths, then masked ones (a mask may lie under a read-only path).
  for (const std::string& r : c.readonly_paths) LXZ_TRY(readonly_in_root(root, r));
  for (const std::string& m : c.masks) LXZ_TRY(mask_in_root(root, m, c));

  // Enter the new root and drop the scratch root with the host's tree under it.
  if (chdir(root.c_str()) < 0) return sys_error("chdir new root");
  if (syscall(SYS_pivot_root, ".", ".") < 0) return sys_error("pivot_root into the zone's root");
  if (umount2(".", MNT_DETACH) < 0) return sys_error("detach the host's root");
  if (chdir("/") < 0) return sys_error("chdir /");
  return {};
}

}  // namespace lxz
