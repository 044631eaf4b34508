#include "tmpfs_options.h"

#include <sys/sysinfo.h>
#include <cstdlib>

namespace lxz {
namespace {

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

}  // namespace

std::string nr_inodes_for(const std::string& size) {
  uint64_t inodes = tmpfs_bytes(size) / kPage;
  return std::to_string(inodes < kMinInodes ? kMinInodes : inodes);
}

std::string sized_tmpfs(const std::string& mode, const std::string& size) {
  return "mode=" + mode + ",size=" + size + ",nr_inodes=" + nr_inodes_for(size);
}

uint32_t zone_root_id(const ShimConfig& c) { return c.rootless ? 0 : c.id_base; }

std::string id_options(const ShimConfig& c) {
  return "uid=" + std::to_string(zone_root_id(c)) + ",gid=" + std::to_string(zone_root_id(c));
}

}  // namespace lxz
