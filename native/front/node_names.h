// Errno and signal names as the Node path prints them (src/errors.ts
// errnoName, src/zone/shim-process.ts signalNames: os.constants), so a
// message from the front end is the same text as Node's.
#pragma once
#include <string>

namespace lxz::front {

// errnoName(n): Node's name for the number, else "E<n>".
std::string errno_name(int err);

// The keeper's killing signal as shim-process.ts names it (unknown: SIGKILL).
std::string signal_name(int sig);

}  // namespace lxz::front
