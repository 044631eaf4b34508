// What every tmpfs of a zone carries in its options: a size, an inode bound
// and, where the zone writes, the zone's root as its owner.
#pragma once
#include <cstdint>
#include <string>

#include "../config.h"

namespace lxz {

// The inode bound of a tmpfs of `size` ("64m", "65536k", "1g", "123" bytes or
// "N%" of RAM, as tmpfs reads it).
std::string nr_inodes_for(const std::string& size);

// Options of a writable, size-capped tmpfs.
std::string sized_tmpfs(const std::string& mode, const std::string& size);

// Read-only, empty tmpfs masks (over /proc/acpi, /sys/firmware ...): nothing
// can be created in them, and still they carry bounds like every other.
constexpr const char* kMaskTmpfs = "size=4k,nr_inodes=16,mode=0555";

// The zone root's id as the mounting process names it: a host id when the
// tree is built as host root, 0 when built inside a rootless user namespace.
uint32_t zone_root_id(const ShimConfig& c);

// "uid=N,gid=N" of the zone's root, for a tmpfs the zone owns.
std::string id_options(const ShimConfig& c);

}  // namespace lxz
