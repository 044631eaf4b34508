// The directories above lxzone's runtime directory: whoever can rename one
// of them can put a runtime directory of their own, with a description of
// their choosing, where the front end looks. OpenSSH's safe_path rule
// (docs/parts/fast-run.md "Trust"), the same one Node's ensurePrivateDir
// applies before it writes there (src/zone/state/trusted-dir.ts).
#pragma once
#include <string>

#include "../common/fd.h"
#include "trusted_file.h"

namespace lxz::front {

// Opens the directory `dir` (absolute) as an O_PATH fd after checking it and
// every directory above it: `dir` is resolved with realpath(3), then its
// canonical path walked from "/" one component at a time with no symlink
// followed (so the directories checked are the ones used), each owned by
// root or the effective uid and writable by no group or other unless sticky.
// kAbsent when `dir` does not exist; `why` names the directory refused.
Found open_trusted_ancestors(const std::string& dir, Fd* out, std::string* why);

}  // namespace lxz::front
