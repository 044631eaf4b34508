// The dense dispatch table: for each ABI the filter serves, one handler id per
// syscall number. Compiled by src/policy from the same tables and rules as the
// BPF program; layout documented in src/policy (compile output) and here:
//   u32 magic "LXZD", u32 version 1, u32 flags, u32 nabis,
//   per ABI: u32 audit arch, u32 n, n x u8 handler id, zero padding to 4.
#pragma once
#include <cstdint>
#include <string>
#include <vector>
#include "../common/result.h"
#include "../common/seam.generated.h"  // handler ids, AUDIT_ARCH values (seam/facts.json)

namespace lxz {

constexpr uint32_t kDispatchMagic = 0x445a584c;  // "LXZD"
constexpr uint32_t kDispatchFlagUnsupportedSigsys = 1;

struct AbiDispatch {
  uint32_t audit_arch = 0;
  std::string name;                 // "x86_64", "i386", "aarch64"
  std::vector<uint8_t> handlers;    // index: syscall number
};

class DispatchTable {
 public:
  static Status parse(const uint8_t* data, size_t size, size_t handler_count, DispatchTable* out);

  // ABI index for a seccomp_data.arch value, -1 when the table has none.
  int abi_index(uint32_t audit_arch) const {
    for (size_t i = 0; i < abis_.size(); i++)
      if (abis_[i].audit_arch == audit_arch) return static_cast<int>(i);
    return -1;
  }
  uint8_t handler(int abi, int64_t nr) const {
    if (abi < 0) return kHandlerUnsupported;
    const std::vector<uint8_t>& h = abis_[static_cast<size_t>(abi)].handlers;
    return nr >= 0 && static_cast<uint64_t>(nr) < h.size() ? h[static_cast<size_t>(nr)] : kHandlerUnsupported;
  }
  const std::string& abi_name(int abi) const { return abis_[static_cast<size_t>(abi)].name; }
  bool unsupported_sigsys() const { return flags_ & kDispatchFlagUnsupportedSigsys; }
  // True when every ABI routes some syscall to handler `id`.
  bool every_abi_uses(uint8_t id) const {
    for (const AbiDispatch& a : abis_) {
      bool found = false;
      for (uint8_t h : a.handlers) found |= h == id;
      if (!found) return false;
    }
    return !abis_.empty();
  }

 private:
  uint32_t flags_ = 0;
  std::vector<AbiDispatch> abis_;
};

}  // namespace lxz
