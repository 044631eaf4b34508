// The record format shared by the shim's config and a launch description
// (src/zone/shim-config.ts): `key=value` records, each ending in a NUL byte.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lxz::front {

struct Record {
  std::string key;
  std::string value;
};

// nullopt when a record lacks its NUL or its '='.
std::optional<std::vector<Record>> split_records(std::string_view bytes);

// Lower- or upper-case hex, even length; nullopt otherwise.
std::optional<std::string> from_hex(std::string_view hex);

// A decimal integer of at most 19 digits (no sign, no blanks); nullopt otherwise.
std::optional<uint64_t> parse_decimal(std::string_view s);

// `s` cut at each \x1f (the field separator inside a value).
std::vector<std::string> fields(std::string_view s);

}  // namespace lxz::front
