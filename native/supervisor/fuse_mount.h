// A block filesystem mounted in a zone, served by a FUSE driver in user space
// (fuse2fs for ext2/3/4, fusefat for vfat, squashfuse for squashfs, ntfs-3g
// for ntfs, fuseiso for iso9660, exfat-fuse for exfat) instead of the host kernel: the host never parses a
// zone's image. The driver runs with the zone's privileges and nothing more:
// in the zone's cgroup, as the zone's root in the zone's user namespace, in
// pid, network, IPC and UTS namespaces of its own (empty), no_new_privs, in a
// root that holds only the host's /usr (read-only), /dev/fuse, /dev/null and
// the image, under the fuse-driver seccomp filter (syscall-tables/rules/
// fuse-driver.json, compiled in TypeScript and handed over with the zone's
// options). Its mount is then moved onto the target in the zone.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/fd.h"

namespace lxz {

// The user-space drivers, each a Debian package's binary in the host's /usr.
enum class FuseDriver { kFuse2fs, kFusefat, kSquashfuse, kNtfs3g, kFuseiso, kExfat };

// The driver that serves a mount(2) filesystem type, false when none does.
// Read-only types (squashfs, iso9660) are mounted read-only whatever the flags.
bool fuse_driver_for(const char* fstype, FuseDriver* driver, bool* read_only_type);

// A driver filter's length in bytes: whole 8-byte instructions, 1 to
// BPF_MAXINSNS (4096); checked where the bytes come in (addon, keeper config).
inline bool valid_filter_size(size_t bytes) { return bytes > 0 && bytes % 8 == 0 && bytes / 8 <= 4096; }

struct FuseMountJob {
  int user_ns;        // the caller's user namespace
  int mnt_ns;         // the caller's mount namespace
  int cgroup_procs;   // the caller's cgroup.procs, opened for writing; -1: none
  int backing;        // the image (the loop device's backing file)
  int target;         // O_PATH of the mount point, reached through the caller's root
  bool read_only;
  unsigned long attr; // MOUNT_ATTR_* to set on the mount (nosuid, nodev are always set)
  FuseDriver driver = FuseDriver::kFuse2fs;
  int fusermount = -1;  // exfat: O_PATH of lxzone-fusermount, bound over the host's fusermount in the driver's root
  const char* fusermount_at = nullptr;  // where: "usr/bin/fusermount3" or the like
  // The driver's seccomp filter (ZoneOptions::driver_filter; valid_filter_size).
  const uint8_t* filter = nullptr;
  size_t filter_len = 0;
};

// 0 or an errno; the driver keeps serving until the mount is gone. Without a
// filter no driver is started (EPERM).
int mount_fuse_in_zone(const FuseMountJob& job);

}  // namespace lxz
