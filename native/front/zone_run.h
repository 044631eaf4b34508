// One `lxzone run` from its launch description: claim the host id range,
// fill the config, start the shim, serve the zone with the supervisor (the
// addon's C++), relay signals, and decide the end as src/zone/run.ts
// (startZone's wait), src/zone/session.ts and src/cli/run.ts do; a zone that
// asks to restart (reboot(2) RESTART) is run again as
// src/zone/run-restarts.ts does.
#pragma once
#include <string>

#include "../supervisor/dispatch.h"
#include "../supervisor/supervisor.h"
#include "../supervisor/zone.h"
#include "description.h"
#include "event_queue.h"
#include "fill.h"

namespace lxz::front {

struct RunEnd {
  int exit_code = 0;
  std::string error;  // set: the run failed; printed as "lxzone: <error>"
};

class ZoneRunner {
 public:
  // `signal_fd`: the relayed signals (relayed_signals.h), blocked before this is made.
  ZoneRunner(const LaunchDescription& d, DispatchTable dispatch, int signal_fd);
  ~ZoneRunner();

  // The whole series: the first run and its restarts.
  RunEnd run(const RunSlots& slots);

 private:
  enum class Reboot { kNone, kHalt, kRestart };
  struct Once {
    RunEnd end;
    Reboot reboot = Reboot::kNone;
  };
  Once run_once(RunSlots slots);
  // Waits `ms` for a relayed signal; true when one came (the series stops).
  bool signalled_within(uint64_t ms);

  const LaunchDescription& d_;
  DispatchTable dispatch_;
  ZoneOptions options_;
  int signal_fd_;
  EventQueue queue_;  // before the supervisor: it outlives the threads that push to it
  Supervisor supervisor_;
};

}  // namespace lxz::front
