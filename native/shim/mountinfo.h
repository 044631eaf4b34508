// Reading /proc/PID/mountinfo: each mount's id, its parent's id and its mount
// point (relative to the reader's root, unescaped).
#pragma once
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace lxz {

struct MountEntry {
  std::string id;
  std::string parent;
  std::string point;
};

// Mountinfo escapes blanks and backslashes as \ooo.
inline std::string unescape_mountinfo(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); i++) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 3), nullptr, 8));
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

// The mounts of `path` (a mountinfo file), in its order; empty if unreadable.
inline std::vector<MountEntry> read_mountinfo(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::vector<MountEntry> out;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    MountEntry e;
    std::string dev, fsroot;
    f >> e.id >> e.parent >> dev >> fsroot >> e.point;
    e.point = unescape_mountinfo(e.point);
    out.push_back(std::move(e));
  }
  return out;
}

// Whether `path` is `dir` or below it.
inline bool path_at_or_under(const std::string& path, const std::string& dir) {
  return path == dir || path.rfind(dir + "/", 0) == 0;
}

}  // namespace lxz
