// The block-device ioctls (linux/fs.h, type 0x12: BLKGETSIZE64, BLKSSZGET,
// BLKROGET, BLKDISCARD, ...) on the zone's own /dev/loopN (loop_devices.h),
// answered from the backing file as the loop driver would: programs that ask
// a device its size or sector size (mkfs, blkid, partitioning tools) get it.
#pragma once
#include <cstdint>

#include "../loop_devices.h"
#include "handler.h"

namespace lxz {

// True when `cmd` is a block-device ioctl (type 0x12), routed to the loop handler.
constexpr bool is_block_ioctl(uint32_t cmd) { return ((cmd >> 8) & 0xff) == 0x12; }

// `d` is loopN's state (attached or not). Commands not provided go on to
// the kernel (CONTINUE), which answers ENOTTY on the node as before.
Reply loop_block_ioctl(Call& call, const LoopDevice& d, uint32_t cmd, uint64_t arg);

}  // namespace lxz
