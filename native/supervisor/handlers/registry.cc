#include <ctime>

#include "handler.h"

namespace lxz {
namespace {

constexpr HandlerInfo kHandlers[] = {
    {"unsupported", handle_unsupported},
    {"trace", handle_trace},
    {"uname", handle_uname},
    {"sysinfo", handle_sysinfo},
    {"syslog", handle_syslog},
    {"reboot", handle_reboot},
    {"js", handle_js},
    {"personality", handle_personality},
};

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
