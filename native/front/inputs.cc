#include "inputs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <vector>

#include "records.h"

extern char** environ;

namespace lxz::front {
namespace {

std::string ns(int64_t sec, uint32_t nsec) { return std::to_string(sec * 1000000000LL + nsec); }

// A path as Node's fs.statSync(path, { bigint: true }) gives it (libuv's
// statx: dev is makedev(major, minor)), as src/cli/launch-description.ts
// records it: the identity fields (`full`: size and times too), "absent"
// for ENOENT and ENOTDIR. Any other failure matches no record.
std::string stat_record(const std::string& path, bool full) {
  const char us = '\x1f';
  struct statx st;
  if (statx(AT_FDCWD, path.c_str(), 0, STATX_BASIC_STATS, &st) < 0)
    return errno == ENOENT || errno == ENOTDIR ? path + us + "absent" : std::string("\0", 1);
  std::string out = path + us + std::to_string(makedev(st.stx_dev_major, st.stx_dev_minor)) + us + std::to_string(st.stx_ino);
  if (full)
    out += us + std::to_string(st.stx_size) + us + ns(st.stx_mtime.tv_sec, st.stx_mtime.tv_nsec) + us +
           ns(st.stx_ctime.tv_sec, st.stx_ctime.tv_nsec);
  return out;
}

// HOME, XDG_* and LXZONE_* but the two that only talk to the front end.
bool steers_lxzone(std::string_view name) {
  if (name == "LXZONE_LAUNCH_FLAGS" || name == "LXZONE_DEBUG") return false;
  return name == "HOME" || name.rfind("XDG_", 0) == 0 || name.rfind("LXZONE_", 0) == 0;
}

}  // namespace

bool inputs_current(const LaunchDescription& d, std::string* why) {
  for (const std::string& rec : d.input_files) {
    std::string path = rec.substr(0, rec.find('\x1f'));
    if (stat_record(path, true) != rec) {
      *why = "input file changed: " + path;
      return false;
    }
  }
  for (const std::string& rec : d.input_dirs) {
    std::string path = rec.substr(0, rec.find('\x1f'));
    if (stat_record(path, false) != rec) {
      *why = "input directory changed: " + path;
      return false;
    }
  }
  std::vector<std::string> now;
  for (char** e = environ; *e != nullptr; e++) {
    std::string_view entry(*e);
    size_t eq = entry.find('=');
    if (eq == std::string_view::npos || !steers_lxzone(entry.substr(0, eq))) continue;
    now.push_back(std::string(entry.substr(0, eq)) + '\x1f' + std::string(entry.substr(eq + 1)));
  }
  std::vector<std::string> then = d.input_env;
  std::sort(now.begin(), now.end());
  std::sort(then.begin(), then.end());
  if (now != then) {
    for (const std::string& v : now)
      if (!std::binary_search(then.begin(), then.end(), v)) {
        *why = "environment differs: " + v.substr(0, v.find('\x1f'));
        return false;
      }
    for (const std::string& v : then)
      if (!std::binary_search(now.begin(), now.end(), v)) {
        *why = "environment differs: " + v.substr(0, v.find('\x1f'));
        return false;
      }
    *why = "environment differs";
    return false;
  }
  return true;
}

}  // namespace lxz::front
