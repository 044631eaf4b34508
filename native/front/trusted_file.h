// Where a launch description lives and whether it may be trusted: the
// description decides the zone's seccomp filter, so it is read only from a
// private directory of the caller's under directories no one else can
// change, never through a symlink (docs/parts/fast-run.md "Trust").
#pragma once
#include <string>

namespace lxz::front {

// lxzone's runtime directory as src/zone/state/paths.ts chooses it.
std::string runtime_dir();

enum class Found { kRead, kAbsent, kUntrusted };

// Reads <runtime>/launch/<name> into `bytes` when every directory above
// <runtime> is one only root or we can change (trusted_ancestors.h),
// <runtime> and <runtime>/launch are real directories and the file a
// regular file, all owned by the effective uid and writable by no group or
// other. `runtime` is absolute and normalized, as runtime_dir() gives it.
// `why` says what was missing or refused.
Found read_trusted_description(const std::string& runtime, const std::string& name, std::string* bytes, std::string* why);

}  // namespace lxz::front
