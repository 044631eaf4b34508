// A handler written in TypeScript: the call is sent to JS and answered later
// (Supervisor::respond); the loop keeps serving other calls meanwhile, and a
// call JS does not answer in time gets ENOSYS.
#include "handler.h"

namespace lxz {

constexpr uint64_t kJsTimeoutMs = 5000;

Reply handle_js(Call& call) {
  call.zone.js_pending[call.req.id] = PendingJsCall{call.listener, monotonic_ms() + kJsTimeoutMs};
  call.events.push_back(call.event(EventType::kJsCall));
  return Reply::pending();
}

}  // namespace lxz
