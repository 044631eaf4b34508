// The two file systems of lxzone's /proc/sys/kernel/hostname and domainname
// (uts_sysctl_server.h), made by the keeper once the zone's namespaces exist
// and before the zone process is cloned: one FUSE file system of a single
// regular file each, in the keeper's user namespace (where it opened
// /dev/fuse: the two must share it), as detached mounts the zone process
// inherits and places over the kernel's files while it builds the zone's
// tree, so they are locked like every other lxzone mount.
#pragma once
#include <cstdint>
#include <string>

#include "../common/fd.h"
#include "../common/result.h"
#include "config.h"

namespace lxz {

// The two files: where each is mounted, which name it serves.
struct UtsSysctlFile {
  const char* target;
  bool domain;
};
inline constexpr UtsSysctlFile kUtsSysctlFiles[2] = {{"/proc/sys/kernel/hostname", false},
                                                     {"/proc/sys/kernel/domainname", true}};

// The files' owner as the superblock's user namespace (the keeper's) sees
// the zone's root.
uint32_t uts_sysctl_file_owner(const ShimConfig& c);

// Keeper side: opens /dev/fuse for each (non-blocking: the keeper polls
// them), makes the file system and answers its INIT (the kernel's request,
// nothing of the zone's), so no server is needed until the zone itself asks
// something of a file.
struct UtsSysctlConnections {
  Fd fuse[2];
  Fd mounts[2];
};
Status make_uts_sysctl_files(const ShimConfig& c, UtsSysctlConnections* out);

// Keeper side, just before the clone: the mounts become the zone process's
// to place (it is a clone of the keeper: it has them too).
void offer_uts_sysctl_mounts(Fd (&mounts)[2]);
// Keeper side, after the clone: the keeper's copies go.
void release_uts_sysctl_mounts();

// Zone process side, in build_zone_filesystem after /proc is mounted under
// `root`: mounts the two files over the kernel's; nothing when the keeper
// made none.
Status attach_uts_sysctl_files(const std::string& root);

}  // namespace lxz
