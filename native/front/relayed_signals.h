// The signals `lxzone run` passes on to the zone (src/cli/run.ts
// RELAYED_SIGNALS): blocked in every thread and read from a signalfd, so
// none of them ends the front end before its zone has.
#pragma once
#include "../common/fd.h"

namespace lxz::front {

// Blocks the relayed signals in this thread (threads made later inherit the
// mask) and returns a signalfd for them. Call before the supervisor starts.
Fd block_relayed_signals();

// The next pending relayed signal from `fd`, or 0 when there is none.
int next_signal(int fd);

}  // namespace lxz::front
