// A syscall the zone's table does not provide: ENOSYS (SIGSYS in strict
// profiles) and one event per (zone, ABI, number), so a user learns what a
// binary wanted without a flood.
#include <signal.h>
#include <cerrno>

#include "../tracee_memory.h"
#include "handler.h"

namespace lxz {

Reply handle_unsupported(Call& call) {
  int nr = counter_nr(call.req.data.nr);
  if (call.zone.seen_unsupported.insert({call.abi, nr}).second) {
    Event e = call.event(EventType::kUnsupported);
    e.nr = nr;  // numbers past any table are reported as one (-1)
    call.events.push_back(e);
  }
  {
    std::lock_guard<std::mutex> lock(call.zone.counters_mu);
    call.zone.counters.unsupported[{call.abi_name(), nr}]++;
  }
  if (call.zone.dispatch.unsupported_sigsys() && notification_valid(call.listener, call.req.id)) {
    kill(static_cast<pid_t>(call.req.pid), SIGSYS);
  }
  return Reply::error_of(ENOSYS);
}

}  // namespace lxz
