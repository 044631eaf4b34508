#include <ctime>

#include "handler.h"

namespace lxz {
namespace {

// In id order (seam/facts.json): a handler named there needs its handle_<name> here.
#define LXZ_HANDLER_ENTRY(name) {#name, handle_##name},
constexpr HandlerInfo kHandlers[] = {LXZ_HANDLERS(LXZ_HANDLER_ENTRY)};
#undef LXZ_HANDLER_ENTRY
static_assert(sizeof kHandlers / sizeof kHandlers[0] == kHandlerCount);

uint64_t clock_ms(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

}  // namespace

const HandlerInfo* handler_table() { return kHandlers; }
size_t handler_count() { return sizeof kHandlers / sizeof kHandlers[0]; }
uint64_t boottime_ms() { return clock_ms(CLOCK_BOOTTIME); }
uint64_t monotonic_ms() { return clock_ms(CLOCK_MONOTONIC); }

}  // namespace lxz
