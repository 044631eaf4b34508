// trace: a record of the call (pid, ABI, number, arguments, and the C strings
// the table says it takes), then CONTINUE. The result of a CONTINUEd call is
// never seen by the supervisor. CONTINUE is for observation only: the tracee
// can change pointed-to memory after we read it.
#include "../tracee_memory.h"
#include "handler.h"

namespace lxz {

Reply handle_trace(Call& call) {
  Event e = call.event(EventType::kTrace);
  const std::vector<uint8_t>& masks = call.zone.options.trace_string_args;
  size_t index = static_cast<size_t>(call.abi) * 4096 + static_cast<size_t>(call.req.data.nr & 4095);
  uint8_t mask = index < masks.size() ? masks[index] : 0;
  for (int i = 0; i < 6; i++) {
    if (i) e.text.push_back('\x1f');
    if (!(mask & (1 << i)) || call.req.data.args[i] == 0) continue;
    std::string s;
    if (read_tracee_string(call.listener, call.req.id, static_cast<pid_t>(call.req.pid), call.req.data.args[i], 256,
                           &s) == 0)
      e.text += s;
  }
  call.events.push_back(std::move(e));
  return Reply::cont();
}

}  // namespace lxz
