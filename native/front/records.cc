#include "records.h"

namespace lxz::front {

std::optional<std::vector<Record>> split_records(std::string_view bytes) {
  std::vector<Record> out;
  size_t pos = 0;
  while (pos < bytes.size()) {
    size_t end = bytes.find('\0', pos);
    if (end == std::string_view::npos) return std::nullopt;
    std::string_view rec = bytes.substr(pos, end - pos);
    size_t eq = rec.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    out.push_back({std::string(rec.substr(0, eq)), std::string(rec.substr(eq + 1))});
    pos = end + 1;
  }
  return out;
}

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

std::optional<uint64_t> parse_decimal(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

std::vector<std::string> fields(std::string_view s) {
  std::vector<std::string> out;
  size_t pos = 0;
  for (;;) {
    size_t us = s.find('\x1f', pos);
    out.emplace_back(s.substr(pos, us == std::string_view::npos ? std::string_view::npos : us - pos));
    if (us == std::string_view::npos) return out;
    pos = us + 1;
  }
}

}  // namespace lxz::front
