// Process identity that survives pid reuse, as src/zone/state/proc.ts keeps
// it: (pid, start time from /proc/PID/stat field 22, boot id).
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <string>

namespace lxz::front {

// JSON.stringify(processIdentity()) of this process: {"pid":P,"startTime":T,"bootId":"B"}.
std::string own_identity_json();

// isAlive(record): the boot id matches (when given), the pid runs, is no
// zombie, and started at `start_time`.
bool is_alive(double pid, bool has_start_time, double start_time, const std::string* boot_id);

}  // namespace lxz::front
