// A launch description (docs/parts/fast-run.md): the plan of a plain
// `lxzone run` as TypeScript made it (src/cli/launch-description.ts), with
// the per-run fields of the shim's config left as slots. Parsed once here
// into typed fields; any record this reader does not know makes it unusable.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lxz::front {

struct IdClaimPlan {
  std::string dir;          // <runtime>/ids
  uint64_t first_slot = 0;  // the one-shot slots: first .. first+slot_count-1
  uint64_t slot_count = 0;
  uint64_t range_start = 0;  // slot S's id base is range_start + S * range_count
  uint64_t range_count = 0;
};

struct RestartPolicy {
  uint64_t burst = 0;            // restarts in a row after which the zone is not run again
  uint64_t series_reset_ms = 0;  // a run at least this long starts a new series
  std::vector<uint64_t> delay_ms;  // back-off before restart n (n < burst)
  std::string limit_reason;      // printed when the burst limit ends a series
};

struct LaunchDescription {
  std::string flags;
  std::vector<std::string> input_files;  // raw values: PATH US DEV US INO US SIZE US MTIME_NS US CTIME_NS | PATH US absent
  std::vector<std::string> input_dirs;   // raw values: PATH US DEV US INO | PATH US absent
  std::vector<std::string> input_env;    // raw values: NAME US VALUE
  std::string shim;
  std::string config;    // the shim's config with slot records
  std::string filter;    // BPF program
  std::string dispatch;  // the supervisor's dispatch table
  std::string hostname;
  std::optional<std::string> kernel_version;
  bool kernel_version_env = false;
  std::string trace_string_args;
  std::string driver_filter;  // the FUSE drivers' seccomp filter (ZoneOptions::driver_filter)
  std::optional<IdClaimPlan> id_claim;
  RestartPolicy restart;
};

// Parses the description's bytes; on failure says why (for LXZONE_DEBUG).
std::optional<LaunchDescription> parse_description(std::string_view bytes, std::string* why);

}  // namespace lxz::front
