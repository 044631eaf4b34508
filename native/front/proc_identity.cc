#include "proc_identity.h"

#include <fcntl.h>
#include <unistd.h>

#include <cmath>
#include <optional>
#include <vector>

#include "../common/fd.h"

namespace lxz::front {
namespace {

std::optional<std::string> read_small(const std::string& path) {
  Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return std::nullopt;
  std::string out;
  char buf[1024];
  ssize_t n;
  while ((n = read(fd.get(), buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  if (n < 0) return std::nullopt;
  return out;
}

struct Stat {
  std::string state;
  std::string start_time;  // decimal, as the kernel wrote it
};

// Fields counted from the last ')' (the command name may hold spaces and ')').
std::optional<Stat> read_stat(pid_t pid) {
  auto text = read_small("/proc/" + std::to_string(pid) + "/stat");
  if (!text) return std::nullopt;
  size_t close = text->rfind(')');
  if (close == std::string::npos || close + 2 > text->size()) return std::nullopt;
  // Split on blanks by hand, not with a stream: with no stream in the
  // binary the linker leaves the C++ locale out (native/common/text_file.h).
  std::vector<std::string> f;
  for (size_t i = close + 2; i < text->size();) {
    size_t end = text->find_first_of(" \n", i);
    if (end == std::string::npos) end = text->size();
    if (end > i) f.push_back(text->substr(i, end - i));
    i = end + 1;
  }
  // f[0] is field 3 (state): field N is f[N - 3].
  if (f.size() < 20) return std::nullopt;
  return Stat{f[0], f[19]};
}

const std::string& boot_id() {
  static const std::string id = [] {
    std::string s = read_small("/proc/sys/kernel/random/boot_id").value_or("");
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
  }();
  return id;
}

}  // namespace

std::string own_identity_json() {
  pid_t pid = getpid();
  auto st = read_stat(pid);
  return "{\"pid\":" + std::to_string(pid) + ",\"startTime\":" + (st ? st->start_time : "0") + ",\"bootId\":\"" + boot_id() + "\"}";
}

bool is_alive(double pid, bool has_start_time, double start_time, const std::string* boot) {
  if (boot != nullptr && *boot != boot_id()) return false;
  if (!(pid > 0) || std::floor(pid) != pid || pid > 4194304) return false;
  auto st = read_stat(static_cast<pid_t>(pid));
  if (!st) return false;
  if (st->state == "Z" || st->state == "X") return false;
  return has_start_time && std::stod(st->start_time) == start_time;
}

}  // namespace lxz::front
