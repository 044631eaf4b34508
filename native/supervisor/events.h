// What the supervisor tells TypeScript, batched: zone lifecycle, unsupported
// syscalls, trace records, reboot requests and calls for JS handlers.
#pragma once
#include <cstdint>
#include <string>

#include "../common/seam.generated.h"  // EventType and its names (seam/facts.json)

namespace lxz {


struct Event {
  uint32_t zone = 0;
  EventType type = EventType::kCreated;
  int32_t a = 0;
  int32_t b = 0;
  int32_t pid = 0;
  int32_t nr = -1;
  std::string abi;
  uint64_t args[6] = {};
  uint64_t id = 0;
  std::string text;
};

}  // namespace lxz
