#include "fill.h"

#include "records.h"

namespace lxz::front {
namespace {

constexpr char kSlot = '\x01';

void add(std::string* out, std::string_view key, std::string_view value) {
  out->append(key);
  out->push_back('=');
  out->append(value);
  out->push_back('\0');
}

}  // namespace

bool has_id_base_slot(std::string_view config) {
  auto records = split_records(config);
  if (!records) return false;
  for (const Record& r : *records)
    if (r.key == "id-base" && r.value == std::string(1, kSlot)) return true;
  return false;
}

std::optional<std::string> fill_config(std::string_view config, const RunSlots& run, std::string* why) {
  auto records = split_records(config);
  if (!records) {
    *why = "config: not NUL-terminated key=value records";
    return std::nullopt;
  }
  std::string out;
  out.reserve(config.size() + 256);
  for (const Record& r : *records) {
    if (r.value.empty() || r.value[0] != kSlot) {
      add(&out, r.key, r.value);
      continue;
    }
    std::string_view rest = std::string_view(r.value).substr(1);
    if (r.key == "arg" && rest.empty()) {
      for (const std::string& a : run.argv) add(&out, "arg", a);
    } else if (r.key == "env" && rest == "TERM") {
      if (run.term) add(&out, "env", "TERM=" + *run.term);
    } else if (r.key == "id-base" && rest.empty()) {
      if (!run.id_base) {
        *why = "config: an id-base slot with no id range claimed";
        return std::nullopt;
      }
      add(&out, "id-base", std::to_string(*run.id_base));
    } else if (r.key == "tty" && rest.empty()) {
      if (run.tty) add(&out, "tty", "1");
    } else {
      *why = "config: unknown slot " + r.key;
      return std::nullopt;
    }
  }
  return out;
}

}  // namespace lxz::front
