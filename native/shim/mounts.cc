#include "mounts.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <initializer_list>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "cow_root.h"
#include "id_mapping.h"
#include "mountinfo.h"
#include "rootfs_idmap.h"
#include "uts_sysctl_server.h"

// glibc 2.36's <sys/mount.h> conflicts with <linux/mount.h>; declare the
// mount_setattr pieces we use.
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#define MOUNT_ATTR_NOSUID 0x00000002
#define MOUNT_ATTR_NODEV 0x00000004
#define MOUNT_ATTR_NOEXEC 0x00000008
struct mount_attr {
  uint64_t attr_set;
  uint64_t attr_clr;
  uint64_t propagation;
  uint64_t userns_fd;
};
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef MOUNT_ATTR_IDMAP
#define MOUNT_ATTR_IDMAP 0x00100000
#endif

namespace lxz {
namespace {

// Where the host's root is reachable while we build (see build_zone_filesystem).
constexpr const char* kOldRoot = "/oldroot";
constexpr const char* kNewRoot = "/newroot";
constexpr const char* kDevNull = "/oldroot/dev/null";

// Who mount targets missing in the zone's root are created as: host root (0),
// or, on an id-mapped OCI rootfs, the zone's root (rootfs_idmap.h).
uint32_t g_targets_owner = 0;

Status do_mount(const char* source, const std::string& target, const char* type, unsigned long flags,
                const std::string& data = {}) {
  if (mount(source, target.c_str(), type, flags, data.empty() ? nullptr : data.c_str()) < 0)
    return sys_error(std::string("mount ") + (type ? type : source ? source : "") + " on " + target);
  return {};
}

// Every tmpfs gets an inode bound as well as a size: tmpfs counts only data
// pages against size=, so without nr_inodes a zone can make a million empty
// files in a 64 MiB /tmp and pin ~1 GB of kernel memory in inodes and
// dentries (issue 14.11). One inode per page of the size lets every page hold
// a file of its own and bounds the inodes' memory to ~1/4 of the size.
constexpr uint64_t kPage = 4096;
constexpr uint64_t kMinInodes = 1024;

// "64m", "65536k", "1g", "123" (bytes) or "N%" (of RAM, as tmpfs reads it).
uint64_t tmpfs_bytes(const std::string& size) {
  if (size.empty()) return 0;
  uint64_t n = std::strtoull(size.c_str(), nullptr, 10);
  switch (size.back()) {
    case 'k': return n << 10;
    case 'm': return n << 20;
    case 'g': return n << 30;
    case '%': {
      struct sysinfo si = {};
      if (sysinfo(&si) < 0) return 0;
      return static_cast<uint64_t>(si.totalram) * si.mem_unit / 100 * n;
    }
    default: return n;
  }
}

std::string nr_inodes_for(const std::string& size) {
  uint64_t inodes = tmpfs_bytes(size) / kPage;
  return std::to_string(inodes < kMinInodes ? kMinInodes : inodes);
}

// Options of a writable, size-capped tmpfs.
std::string sized_tmpfs(const std::string& mode, const std::string& size) {
  return "mode=" + mode + ",size=" + size + ",nr_inodes=" + nr_inodes_for(size);
}

// Read-only, empty tmpfs masks (over /proc/acpi, /sys/firmware ...): nothing
// can be created in them, and still they carry bounds like every other.
constexpr const char* kMaskTmpfs = "size=4k,nr_inodes=16,mode=0555";

Status make_dir(const std::string& path, mode_t mode) {
  if (mkdir(path.c_str(), mode) < 0 && errno != EEXIST) return sys_error("mkdir " + path);
  return {};
}

Status make_file(const std::string& path) {
  int fd = open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return sys_error("create " + path);
  close(fd);
  return {};
}

Status make_symlink(const char* target, const std::string& path) {
  if (symlink(target, path.c_str()) < 0 && errno != EEXIST) return sys_error("symlink " + path);
  return {};
}

Status set_recursive_attrs(const std::string& path, uint64_t set) {
  struct mount_attr attr = {};
  attr.attr_set = set;
  if (syscall(SYS_mount_setattr, AT_FDCWD, path.c_str(), AT_RECURSIVE, &attr, sizeof attr) < 0)
    return sys_error("mount_setattr " + path);
  return {};
}

// Removes every mount stacked at or under `path` (host /proc, /sys, /dev, /run
// and /tmp, which a zone gets fresh copies of).
void detach_all(const std::string& path) {
  while (umount2(path.c_str(), MNT_DETACH) == 0) {
  }
}

// Copies of host mounts the zone never sees, under `root`: below the host's
// /proc, /sys, /dev, /run and /tmp (the zone gets fresh ones over them) and
// below lxzone's hidden directories. Detached, not just covered: a covered
// copy keeps its filesystem alive for as long as the zone runs, and when
// that is another zone's disk, its offline growth at that zone's next boot
// waited for this zone to end (src/zone/cgroups/disk.ts). Rootless, copies
// are locked to their parents and stay (no zone disks without root).
void detach_unseen(const std::string& root, const std::vector<std::string>& hide) {
  std::vector<std::string> dirs = {"/proc", "/sys", "/dev", "/run", "/tmp"};
  dirs.insert(dirs.end(), hide.begin(), hide.end());
  std::vector<std::string> points;
  for (const MountEntry& m : read_mountinfo(std::string(kOldRoot) + "/proc/self/mountinfo"))
    for (const std::string& d : dirs)
      if (m.point.rfind(root + d + "/", 0) == 0) points.push_back(m.point);
  // Deepest first; a detach takes what is below it along (a later one may be gone already).
  std::sort(points.begin(), points.end(), [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const std::string& p : points) umount2(p.c_str(), MNT_DETACH);
}

bool is_dir(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// The zone root's id as the mounting process names it: a host id when the
// tree is built as host root, 0 when built inside a rootless user namespace.
uint32_t zone_root_id(const ShimConfig& c) { return c.rootless ? 0 : c.id_base; }

Status open_how(int dirfd, const std::string& path, uint64_t resolve, int* out, const std::string& what) {
  struct open_how how = {};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = resolve;
  long fd = syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof how);
  if (fd < 0) return sys_error(what);
  *out = static_cast<int>(fd);
  return {};
}

// A path of the zone, resolved inside the zone's root: symlinks and ".." in an
// image can never lead a mount outside it.
Status open_in_root(const std::string& root, const std::string& path, int* out) {
  int root_fd = -1;
  LXZ_TRY(open_how(AT_FDCWD, root, RESOLVE_NO_SYMLINKS, &root_fd, "open " + root));
  Status s = open_how(root_fd, "." + path, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS, out, "mount target " + path + " in the zone's root");
  close(root_fd);
  return s;
}

Status attach_at(int tree, int target_fd, const std::string& what) {
  if (move_mount(tree, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return sys_error("move_mount " + what);
  return {};
}

bool under_dev(const std::string& zone_path) { return zone_path.rfind("/dev/", 0) == 0; }

bool source_is_dir(const BindMount& b) {
  struct stat st;
  return stat((std::string(kOldRoot) + b.source).c_str(), &st) != 0 || S_ISDIR(st.st_mode);
}

// Creates a missing mount target, inside the zone's root: a directory (or an
// empty file for a file source) whose parents are made too. Only possible
// where the zone's root is writable: its /tmp, /run, a tmpfs, a writable root.
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

// The destinations of the zone's tmpfs mounts and binds that its root lacks
// (a bind of a file gets an empty file).
// Targets under /dev are made in the zone's own /dev (make_dev_targets), not in the root.
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

// The targets of binds and tmpfs mounts under /dev (Kubernetes binds the
// termination log at /dev/termination-log in every container), made in the
// zone's /dev tmpfs before it turns read-only; they are mounted with the
// others, after the zone's /dev (which would otherwise cover them).
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

// Binds a host path (reached with no symlink at all) over a path of the zone;
// id-mapped through `idmap_userns` when it is not -1 (a volume: bind_volume_userns).
Status bind_into_root(const std::string& root, const std::string& host_path, const std::string& zone_path,
                      bool readonly, bool recursive, int idmap_userns = -1) {
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

// Masks a directory of the zone with an empty read-only tmpfs (mode 0): what
// lxzone keeps there (every zone's config and logs) must not show in a zone,
// and a rootless zone runs as the very uid that owns it. Missing: nothing to hide.
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

// Hides a path of the zone: a file behind /dev/null (reads as empty), a
// directory behind an empty tmpfs of the zone's own, capped like /tmp (a
// copy-on-write zone's root owns the host's files in its view, so what only
// the host's root may read is not shown at all; programs may still write
// their logs or homes there).
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

// Makes a path of the zone read-only where it is, as runc does an OCI
// readonlyPath: a recursive bind of itself whose top mount is then made
// read-only, its other flags kept (runc's remount is not recursive: a mount
// under the path keeps its own flags). A path that does not exist is
// skipped (runc's rule); one that leads nowhere (a symlink loop) is an
// error. Locked, like every mount, once the zone's user namespace owns it.
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

std::string id_options(const ShimConfig& c) {
  return "uid=" + std::to_string(zone_root_id(c)) + ",gid=" + std::to_string(zone_root_id(c));
}

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

// The kernel lets a user namespace mount proc or sysfs only where a view of
// it is already fully visible in the mount namespace (mount_too_revealing):
// the zone's own are not, their masks being locked mounts over files and
// full directories. So one unmasked instance of each is mounted where no
// path reaches it: on a tmpfs that the zone's /dev then covers (a locked
// mount). Nested namespaces (bwrap, unshare --mount-proc, containers) can
// then mount proc for their pid namespace and sysfs (read-only, as this one
// is) for their network namespace. What such a mount shows that the zone's
// masks hide is information, not control: the files that act on the host
// (sysrq-trigger, host-global sysctls, kcore, ...) are the host root's, whom
// the zone's root is not, and the kernel checks that (docs/security.md).
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

std::vector<std::string> loop_node_names() {
  std::vector<std::string> names{"loop-control"};
  for (int n = 0; n < 8; n++) names.push_back("loop" + std::to_string(n));
  return names;
}

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

// What systemd as a zone's pid 1 looks for (systemd's CONTAINER_INTERFACE),
// besides its cgroup tree (mount_zone_cgroup2): /run/systemd/container naming
// the manager, owned by the zone's root like the rest of its /run.
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

Status mount_scratch(const std::string& path, const ShimConfig& c, const char* mode) {
  if (!is_dir(path)) return {};
  detach_all(path);
  return do_mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV,
                  sized_tmpfs(mode, c.tmp_size) + "," + id_options(c));
}

}  // namespace

Status mount_zone_cgroup2() {
  if (!is_dir("/sys/fs/cgroup")) return Error{ENOENT, "no /sys/fs/cgroup in the zone's sysfs (a kernel without cgroups?)"};
  return do_mount("cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC);
}

// A zone on the host's root reads the host's /etc/hosts, which names the
// host, not the zone: its own hostname would not resolve (sudo warns,
// `hostname -i` fails, Python's socket tests skip). The zone gets a copy
// with its name first (127.0.1.1, Debian's address for the machine's own
// name), then the host's entries, read-only (as the file it covers). A host
// file past 32 KiB, or none, is left as it is. A bind of /etc/hosts the zone
// is given (-v) comes later and wins.
Status zone_hosts_file(const std::string& root, const ShimConfig& c) {
  if (!c.rootfs.empty()) return {};  // an image's /etc/hosts is the image's
  std::string host = std::string(kOldRoot) + "/etc/hosts";
  int in = open(host.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return {};
  std::string text = "127.0.1.1\t" + c.hostname + "\n";
  char buf[4096];
  ssize_t n;
  bool too_big = false;
  while ((n = read(in, buf, sizeof buf)) > 0) {
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > 32768) {
      too_big = true;
      break;
    }
  }
  close(in);
  if (too_big || n < 0) return {};
  int target = -1;
  if (!open_in_root(root, "/etc/hosts", &target).ok()) return {};  // no /etc/hosts in the zone: none made
  int out = open("/zone-hosts", O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
  if (out < 0 || write(out, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    if (out >= 0) close(out);
    close(target);
    return sys_error("write the zone's /etc/hosts");
  }
  close(out);
  int tree = open_tree(AT_FDCWD, "/zone-hosts", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  struct mount_attr attr = {};
  attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
  Status s;
  if (tree < 0 || mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) s = sys_error("the zone's /etc/hosts");
  if (s.ok()) s = attach_at(tree, target, "/etc/hosts");
  if (tree >= 0) close(tree);
  close(target);
  return s;
}

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
    if (mapped) g_targets_owner = c.id_base;
    else LXZ_TRY(do_mount(source.c_str(), root, nullptr, MS_BIND | MS_REC));
    // The zone gets its own copies of these; the host's must not show through.
    detach_unseen(root, c.hide);
    for (const char* d : {"/proc", "/sys", "/dev", "/run", "/tmp"}) detach_all(root + d);
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
  {
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
    LXZ_TRY(s);
  }
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
