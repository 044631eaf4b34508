// A zone's own loop devices, as the supervisor keeps them (handlers/loop.cc).
// The zone's /dev has /dev/loop-control and /dev/loop0..7: each is a bind of
// /dev/null made by the shim, so it opens like a device and reads as empty,
// and the supervisor tells the nodes apart by mount id. Attaching a backing
// file binds that file over /dev/loopN inside the zone (zone_mounts.h): what
// the zone then reads and writes through /dev/loopN is the file itself, and
// no host block device, partition scan or kernel filesystem ever sees it.
#pragma once
#include <sys/types.h>
#include <cstdint>
#include <string>
#include <vector>

#include "../common/fd.h"

namespace lxz {

constexpr int kLoopCount = 8;

struct LoopDevice {
  bool attached = false;
  Fd backing;              // the caller's backing file (pidfd_getfd)
  bool read_only = false;
  uint64_t bind_mnt_id = 0;  // the bind over /dev/loopN
  dev_t backing_dev = 0;
  ino_t backing_ino = 0;
  uint32_t flags = 0;        // LO_FLAGS_* as reported
  char file_name[64] = {};   // lo_file_name as set by the zone
};

// A filesystem on one of the zone's loop devices, mounted by the mount
// handler and served by a FUSE driver (fuse_mount.h).
struct BlockMount {
  uint64_t mnt_id;
  int device;  // loopN
};

struct LoopState {
  bool known = false;          // the node mount ids below were read
  uint64_t control_mnt_id = 0;
  uint64_t node_mnt_id[kLoopCount] = {};
  LoopDevice dev[kLoopCount];
  std::vector<BlockMount> mounts;
};

}  // namespace lxz
