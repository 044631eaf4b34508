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
  // Only the topmost points: a detach takes everything below it along, and
  // every unmount that takes mounts away waits for an RCU grace period
  // (namespace_unlock), so one per subtree rather than one per mount (the
  // host's cgroup v1 hierarchies alone are a dozen).
  std::sort(points.begin(), points.end(), [](const std::string& a, const std::string& b) { return a.size() < b.size(); });
  std::vector<std::string> topmost;
  for (const std::string& p : points) {
    bool below = std::any_of(topmost.begin(), topmost.end(),
                             [&](const std::string& t) { return p == t || p.rfind(t + "/", 0) == 0; });
    if (!below) topmost.push_back(p);
  }
  // A point may hold a stack of mounts: detach_all takes them all.
  for (const std::string& p : topmost) detach_all(p);
}
}  // namespace lxz
