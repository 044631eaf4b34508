// Just enough JSON for a claim file (src/zone/ids.ts): one object whose
// values are strings, numbers, booleans or null. Anything else is "not
// readable", which ids.ts treats as a holder that died while writing.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace lxz::front {

struct JsonValue {
  enum Kind { kString, kNumber, kOther } kind = kOther;
  std::string text;
  double number = 0;
};

std::optional<std::map<std::string, JsonValue>> parse_flat_object(std::string_view s);

}  // namespace lxz::front
