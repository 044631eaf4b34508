// Everything lxzone-front does not start itself goes to Node: the CLI of
// this checkout (bin/lxzone.js beside the build/Release/ this binary is in),
// with the same arguments.
#pragma once
#include <optional>
#include <string>

namespace lxz::front {

// Execs `node <repo>/bin/lxzone.js ARGS...`; with `launch_flags`, in an
// environment where LXZONE_LAUNCH_FLAGS asks run.ts to write the
// description for them. Returns only on failure (exit status then 125).
[[noreturn]] void exec_node(char** argv, const std::optional<std::string>& launch_flags);

}  // namespace lxz::front
