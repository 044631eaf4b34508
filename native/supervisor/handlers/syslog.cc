// syslog(2) / dmesg: the host's kernel log never reaches a zone. A zone has a
// log of its own, which is empty: reads return nothing, the rest succeeds.
#include <cerrno>

#include "handler.h"

namespace lxz {

Reply handle_syslog(Call& call) {
  int type = static_cast<int>(call.req.data.args[0]);
  int64_t len = static_cast<int32_t>(call.req.data.args[2]);
  switch (type) {
    case 0:  // CLOSE
    case 1:  // OPEN
      return Reply::value_of(0);
    case 2:  // READ
    case 3:  // READ_ALL
    case 4:  // READ_CLEAR
      if (len < 0 || (call.req.data.args[1] == 0 && len > 0)) return Reply::error_of(EINVAL);
      return Reply::value_of(0);
    case 5:  // CLEAR
    case 6:  // CONSOLE_OFF
    case 7:  // CONSOLE_ON
      return Reply::value_of(0);
    case 8:  // CONSOLE_LEVEL
      if (len < 1 || len > 8) return Reply::error_of(EINVAL);
      return Reply::value_of(0);
    case 9:   // SIZE_UNREAD
    case 10:  // SIZE_BUFFER
      return Reply::value_of(0);
    default:
      return Reply::error_of(EINVAL);
  }
}

}  // namespace lxz
