// Reading /proc/PID/mountinfo, for the shim (the host's mounts below a zone's
// root: shim/mounts/host_copies.cc, shim/cow_root.cc) and the supervisor (a
// caller's own mounts: supervisor/handlers/ustat.cc). One line a mount:
//   36 35 98:0 /root /mnt/point rw,noatime master:1 - ext4 /dev/sda1 rw
//   id parent major:minor root point options [optional fields...] - fstype source super-options
#pragma once
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <cstdio>
#include <string>
#include <vector>

#include "text_file.h"

namespace lxz {

struct MountEntry {
  std::string id;
  std::string parent;
  dev_t dev = 0;
  std::string point;   // unescaped, relative to the reader's root
  std::string fstype;
};

// Mountinfo escapes space, tab, newline and backslash as \ooo; anything else
// after a backslash is kept as it is.
inline std::string unescape_mountinfo(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); i++) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      int v = 0;
      bool ok = true;
      for (size_t k = 1; k <= 3; k++) {
        char c = s[i + k];
        if (c < '0' || c > '7') ok = false;
        v = v * 8 + (c - '0');
      }
      if (ok) {
        out.push_back(static_cast<char>(v));
        i += 3;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

// The mounts of mountinfo `text`, in its order; a malformed line is skipped.
inline std::vector<MountEntry> parse_mountinfo(const std::string& text) {
  std::vector<MountEntry> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    std::vector<std::string> f;
    size_t p = 0;
    while (p < line.size()) {
      size_t sp = line.find(' ', p);
      if (sp == std::string::npos) sp = line.size();
      f.push_back(line.substr(p, sp - p));
      p = sp + 1;
    }
    if (f.size() < 7) continue;
    size_t dash = 6;
    while (dash < f.size() && f[dash] != "-") dash++;
    if (dash + 1 >= f.size()) continue;
    unsigned maj = 0, min = 0;
    if (std::sscanf(f[2].c_str(), "%u:%u", &maj, &min) != 2) continue;
    out.push_back({f[0], f[1], makedev(maj, min), unescape_mountinfo(f[4]), f[dash + 1]});
  }
  return out;
}

// The mounts of the mountinfo file at `path`; empty if unreadable. Read
// with plain read(2), not a C++ stream: the first stream a process makes
// initialises the C++ locale (dozens of pages touched), and the zone process
// reads this on every zone's start (and the shim has no stream left, so the
// locale is not even linked in: text_file.h).
inline std::vector<MountEntry> read_mountinfo(const std::string& path) {
  std::string text;
  read_text_file(path, &text);
  return parse_mountinfo(text);
}

// Whether `path` is `dir` or below it ("/" holds every absolute path).
inline bool path_at_or_under(const std::string& path, const std::string& dir) {
  if (dir == "/") return !path.empty() && path[0] == '/';
  return path == dir || path.rfind(dir + "/", 0) == 0;
}

}  // namespace lxz
