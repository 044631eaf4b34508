#include "dispatch.h"

#include <cerrno>
#include <cstring>

namespace lxz {
namespace {

constexpr uint32_t kMaxSyscalls = 4096;

}  // namespace

Status DispatchTable::parse(const uint8_t* data, size_t size, size_t handler_count, DispatchTable* out) {
  size_t pos = 0;
  auto u32 = [&](uint32_t* v) {
    if (pos + 4 > size) return false;
    std::memcpy(v, data + pos, 4);
    pos += 4;
    return true;
  };
  uint32_t magic, version, flags, nabis;
  if (!u32(&magic) || magic != kDispatchMagic) return Error{EINVAL, "dispatch table: bad magic"};
  if (!u32(&version) || version != 1) return Error{EINVAL, "dispatch table: unsupported version"};
  if (!u32(&flags) || !u32(&nabis) || nabis == 0 || nabis > 4) return Error{EINVAL, "dispatch table: bad header"};
  out->flags_ = flags;
  out->abis_.clear();
  for (uint32_t i = 0; i < nabis; i++) {
    AbiDispatch abi;
    uint32_t n;
    if (!u32(&abi.audit_arch) || !u32(&n) || n > kMaxSyscalls || pos + n > size)
      return Error{EINVAL, "dispatch table: truncated ABI section"};
    const char* name = arch_name(abi.audit_arch);
    if (!name) return Error{EINVAL, "dispatch table: unknown audit arch"};
    abi.name = name;
    abi.handlers.assign(data + pos, data + pos + n);
    for (uint8_t h : abi.handlers)
      if (h >= handler_count) return Error{EINVAL, "dispatch table: unknown handler id " + std::to_string(h)};
    pos += (n + 3) & ~3u;
    out->abis_.push_back(std::move(abi));
  }
  return {};
}

}  // namespace lxz
