// An OCI bundle's rootfs, id-mapped onto the zone's ids (lxzone-runc): the
// bundle's files belong to host root (containerd and the runtime-tools suite
// unpack them as root), and the container's root is the zone's first host
// id, which without the mapping could not write its own rootfs. Through the
// mapping a file owned by host uid N shows as the zone's uid N, and what the
// container's root writes is stored as host root's, as under runc.
#pragma once
#include <sys/types.h>
#include <string>

#include "config.h"
#include "../common/result.h"

namespace lxz {

// Binds `source` (recursively) on `root`, id-mapped. Returns false in
// *mapped, having mounted nothing, where the filesystem cannot be id-mapped
// (tmpfs before Linux 6.3, ...): the caller then binds it as it is.
Status mount_idmapped_rootfs(const ShimConfig& c, const std::string& host_root, const std::string& source,
                             const std::string& root, bool* mapped);

// While one exists, files and directories this (host root) process creates
// are created as the zone's root: through an id-mapped mount host root's
// own ids have no mapping (EOVERFLOW), and a mount target made in the
// container's rootfs belongs to the container, as runc makes it.
class CreateAsZoneRoot {
 public:
  explicit CreateAsZoneRoot(uint32_t id);  // 0: no change
  ~CreateAsZoneRoot();
  CreateAsZoneRoot(const CreateAsZoneRoot&) = delete;
  CreateAsZoneRoot& operator=(const CreateAsZoneRoot&) = delete;

 private:
  bool active_ = false;
};

}  // namespace lxz
