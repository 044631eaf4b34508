#include "plain_form.h"

#include <cstdio>

namespace lxz::front {
namespace {

// --name=VALUE or --name VALUE; false when `arg` is not this option.
// A value that is missing, empty or looks like an option is not plain.
enum class Took { kNo, kYes, kBad };
Took take_value(const std::vector<std::string>& args, size_t& i, const std::string& name, std::optional<std::string>* out) {
  const std::string& arg = args[i];
  std::string value;
  if (arg == name) {
    if (i + 1 >= args.size()) return Took::kBad;
    value = args[++i];
  } else if (arg.rfind(name + "=", 0) == 0) {
    value = arg.substr(name.size() + 1);
  } else {
    return Took::kNo;
  }
  if (out->has_value() || value.empty() || value[0] == '-') return Took::kBad;
  *out = value;
  return Took::kYes;
}

}  // namespace

std::optional<PlainRun> parse_plain(const std::vector<std::string>& args) {
  PlainRun run;
  bool tty_seen = false;
  bool interactive_seen = false;
  size_t i = 0;
  for (; i < args.size(); i++) {
    const std::string& a = args[i];
    if (a == "--") {
      i++;
      break;
    }
    // Options end at the first argument that is not one (passThroughOptions).
    if (a.empty() || a[0] != '-') break;
    Took t = take_value(args, i, "--rootfs", &run.rootfs);
    if (t == Took::kNo) t = take_value(args, i, "--network", &run.network);
    if (t == Took::kBad) return std::nullopt;
    if (t == Took::kYes) continue;
    if (a == "-t" || a == "--tty" || a == "--no-tty") {
      if (tty_seen) return std::nullopt;
      tty_seen = true;
      run.tty = a == "--no-tty" ? TtyChoice::kOff : TtyChoice::kOn;
      continue;
    }
    if (a == "-i" || a == "--interactive") {
      if (interactive_seen) return std::nullopt;
      interactive_seen = true;
      continue;
    }
    return std::nullopt;  // any other option: Node's to parse
  }
  if (run.network && *run.network != "loopback" && *run.network != "none") return std::nullopt;
  run.command.assign(args.begin() + static_cast<long>(i), args.end());
  if (run.command.empty() || run.command[0].empty()) return std::nullopt;
  return run;
}

std::string canonical_flags(const PlainRun& run) {
  return "network=" + run.network.value_or("") + "\x1f" + "rootfs=" + run.rootfs.value_or("");
}

uint64_t fnv1a64(const std::string& bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string description_name(const std::string& canonical) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(fnv1a64(canonical)));
  return std::string("run-") + hex;
}

}  // namespace lxz::front
