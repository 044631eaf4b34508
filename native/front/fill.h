// Fills the per-run slots of a launch description's shim config (records
// whose value starts with byte 1: docs/parts/fast-run.md "Slots"). The result
// is byte for byte what encodeShimConfig (src/zone/shim-config.ts) gives for
// the same run; test/04.cli.front-fill.test.ts holds both sides to that.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lxz::front {

struct RunSlots {
  std::vector<std::string> argv;
  std::optional<std::string> term;   // TERM when set and not empty
  std::optional<uint64_t> id_base;   // the claimed range, when the template asks for one
  bool tty = false;
};

// Whether the template has an id-base slot (a one-shot id range to claim).
bool has_id_base_slot(std::string_view config);

// The filled config, or nullopt with `why` for a template this front end does not know.
std::optional<std::string> fill_config(std::string_view config, const RunSlots& run, std::string* why);

}  // namespace lxz::front
