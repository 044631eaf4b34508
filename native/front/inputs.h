// Whether what a launch description was made from is still what it was: the
// files TypeScript read (profiles, tables, subordinate ids, the shim, ...),
// the directories whose presence shaped the plan (input-dir)
// and the environment variables that steer lxzone (docs/parts/fast-run.md).
#pragma once
#include <string>

#include "description.h"

namespace lxz::front {

// True when every input-file, input-dir and the set of input-env variables are as
// recorded; otherwise `why` names the first difference.
bool inputs_current(const LaunchDescription& d, std::string* why);

}  // namespace lxz::front
