// The keeper <-> supervisor control protocol, over a SOCK_SEQPACKET socket:
// one fixed header per message, optional text after it, and SCM_RIGHTS for
// the seccomp listener fd. Message boundaries are kept by the socket type.
#pragma once
#include <cstddef>
#include <cstdint>

#include "seam.generated.h"  // ControlType: the message numbers (seam/facts.json)

namespace lxz {

struct ControlHeader {
  ControlType type;
  int32_t a;
  int32_t b;
  int32_t reserved;
};

constexpr size_t kControlTextMax = 1024;
constexpr size_t kControlMessageMax = sizeof(ControlHeader) + kControlTextMax;

}  // namespace lxz
