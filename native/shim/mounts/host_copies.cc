#include "host_copies.h"

#include <sys/mount.h>
#include <algorithm>

#include "../../common/mountinfo.h"
#include "mount_calls.h"

namespace lxz {

void detach_all(const std::string& path) {
  while (umount2(path.c_str(), MNT_DETACH) == 0) {
  }
}

void detach_unseen(const std::string& root, const std::vector<std::string>& hide) {
  std::vector<std::string> dirs = {"/proc", "/sys", "/dev", "/run", "/tmp"};
  dirs.insert(dirs.end(), hide.begin(), hide.end());
  std::vector<std::string> points;
  for (const MountEntry& m : read_mountinfo(std::string(kOldRoot) + "/proc/self/mountinfo"))
    for (const std::string& d : dirs)
      if (m.point.rfind(root + d + "/", 0) == 0) points.push_back(m.point);
  // Deepest first; a detach takes what is below it along (a later one may be gone already).
  std::sort(points.begin(), points.end(), [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const std::string& p : points) umount2(p.c_str(), MNT_DETACH);
}

}  // namespace lxz
