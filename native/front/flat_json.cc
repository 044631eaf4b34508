#include "flat_json.h"

#include <cstdlib>

namespace lxz::front {
namespace {

struct Parser {
  std::string_view s;
  size_t i = 0;

  void ws() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
  }
  bool eat(char c) {
    ws();
    if (i < s.size() && s[i] == c) {
      i++;
      return true;
    }
    return false;
  }
  bool literal(std::string_view word) {
    if (s.substr(i, word.size()) != word) return false;
    i += word.size();
    return true;
  }
  // Strings with the escapes JSON.stringify writes for ASCII; \u escapes beyond Latin-1 are not needed here.
  std::optional<std::string> string() {
    if (!eat('"')) return std::nullopt;
    std::string out;
    while (i < s.size()) {
      char c = s[i++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) return std::nullopt;
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (i >= s.size()) return std::nullopt;
      char e = s[i++];
      switch (e) {
        case '"': case '\\': case '/': out.push_back(e); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          if (i + 4 > s.size()) return std::nullopt;
          unsigned long cp = std::strtoul(std::string(s.substr(i, 4)).c_str(), nullptr, 16);
          i += 4;
          if (cp >= 0x80) return std::nullopt;
          out.push_back(static_cast<char>(cp));
          break;
        }
        default: return std::nullopt;
      }
    }
    return std::nullopt;
  }
  std::optional<JsonValue> value() {
    ws();
    JsonValue v;
    if (i < s.size() && s[i] == '"') {
      auto str = string();
      if (!str) return std::nullopt;
      v.kind = JsonValue::kString;
      v.text = *str;
      return v;
    }
    if (literal("true") || literal("false") || literal("null")) return v;
    size_t start = i;
    if (i < s.size() && s[i] == '-') i++;
    while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == 'e' || s[i] == 'E' || s[i] == '+' || s[i] == '-')) i++;
    if (i == start) return std::nullopt;
    std::string num(s.substr(start, i - start));
    char* end = nullptr;
    v.number = std::strtod(num.c_str(), &end);
    if (end != num.c_str() + num.size()) return std::nullopt;
    v.kind = JsonValue::kNumber;
    return v;
  }
};

}  // namespace

std::optional<std::map<std::string, JsonValue>> parse_flat_object(std::string_view s) {
  Parser p{s};
  std::map<std::string, JsonValue> out;
  if (!p.eat('{')) return std::nullopt;
  if (!p.eat('}')) {
    do {
      p.ws();
      auto key = p.string();
      if (!key || !p.eat(':')) return std::nullopt;
      auto v = p.value();
      if (!v) return std::nullopt;
      out[*key] = *v;  // a repeated key: the last wins, as in JSON.parse
    } while (p.eat(','));
    if (!p.eat('}')) return std::nullopt;
  }
  p.ws();
  if (p.i != s.size()) return std::nullopt;
  return out;
}

}  // namespace lxz::front
