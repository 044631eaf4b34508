// While no supervisor is attached (the daemon died, or is between an exec's
// caller and the daemon), the keeper answers its zone's notified syscalls
// itself: the supervisor's own dispatch (native/supervisor/notification.h),
// the same dispatch table bytes and zone options the supervisor was given
// (shim config "serve" records). It moves into the zone's cgroups while it
// serves, so the work is charged to the zone, and back when a supervisor
// takes the listener again. A zone therefore never stops because its daemon
// did. JavaScript handlers have no one to answer them here: ENOSYS, as when
// JS does not answer in time; events are not kept.
#pragma once
#include <sys/types.h>
#include <string>
#include <vector>

#include "../supervisor/notification.h"
#include "../supervisor/zone.h"
#include "config.h"

namespace lxz {

class KeeperServer {
 public:
  // Whether the config carries what serving needs (a dispatch table).
  static bool configured(const ShimConfig& c) { return !c.serve.dispatch.empty(); }
  // Parses the table and notes the keeper's own cgroups (before any move).
  Status init(const ShimConfig& c);
  // The zone's init, as soon as its listener exists (for a fresh zone, before
  // any zone code ran): its procfs is opened now, as the supervisor does.
  void note_init(pid_t init);
  // Serves `listener` (a copy is taken) for the zone whose init is `init`.
  void start(int listener, pid_t init);
  void stop();
  bool serving() const { return zone_.listener.valid(); }
  int listener() const { return zone_.listener.get(); }
  // One readable notification; false once the listener is dead.
  bool serve_one();

 private:
  void refresh_memory_limit();

  const ShimConfig* c_ = nullptr;
  Zone zone_;
  NotifSizes sizes_;
  std::vector<Event> events_;
  std::vector<std::string> home_procs_;  // the keeper's own cgroup.procs files
};

}  // namespace lxz
