// The create/start split of an OCI runtime (lxzone-runc): the zone is built,
// its filter installed and its listener with the keeper, but the binary is
// not exec'd until `lxzone-runc start` opens the zone's start fifo for
// reading (runc's exec.fifo). The fifo is a host path in lxzone-runc's state
// directory, opened O_PATH before the zone's mount tree hides it; the wait
// reopens that fd for writing (blocking until a reader comes) after the
// filter, as the last thing before exec.
#pragma once
#include <string>
#include "../common/result.h"

namespace lxz {

// O_PATH|O_CLOEXEC fd of the fifo at `path` (checked to be a fifo).
Status open_start_gate(const std::string& path, int* out);

// Blocks until a reader opens the fifo, writes one byte, closes both fds.
Status await_start(int gate_fd);

}  // namespace lxz
