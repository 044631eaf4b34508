// Starts lxzone-shim as src/zone/run.ts does through the addon
// (native/addon/spawn_process.cc): config and filter in sealed memfds on fds
// 3 and 4, the keeper's end of a SEQPACKET control socket on fd 5, stdio
// inherited, every signal at its default and none blocked.
#pragma once
#include <sys/types.h>

#include <optional>
#include <string>

#include "../common/fd.h"

namespace lxz::front {

struct Shim {
  pid_t pid = -1;
  Fd pidfd;    // the shim's end is seen (and reaped) through it
  Fd control;  // our end of the control socket
};

// nullopt with `error`: the message Node gives for the same failure.
std::optional<Shim> start_shim(const std::string& path, const std::string& config, const std::string& filter, std::string* error);

}  // namespace lxz::front
