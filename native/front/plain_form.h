// The plain form of `lxzone run` (docs/parts/fast-run.md): the only command
// lines lxzone-front starts zones for itself. Anything else goes to Node,
// which parses it and reports its errors.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lxz::front {

enum class TtyChoice { kDefault, kOn, kOff };

struct PlainRun {
  std::optional<std::string> rootfs;   // as given
  std::optional<std::string> network;  // "loopback" or "none", as given
  TtyChoice tty = TtyChoice::kDefault;
  std::vector<std::string> command;    // CMD [ARG...], never empty
};

// args: what follows the verb `run`. nullopt: not the plain form.
std::optional<PlainRun> parse_plain(const std::vector<std::string>& args);

// "network=<MODE or empty>\x1frootfs=<DIR or empty>": what names a description.
std::string canonical_flags(const PlainRun& run);

uint64_t fnv1a64(const std::string& bytes);

// The description's file name: run-<16 lower-case hex digits of fnv1a64>.
std::string description_name(const std::string& canonical);

}  // namespace lxz::front
