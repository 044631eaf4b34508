#include "hosts_file.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include "mount_calls.h"

namespace lxz {

Status zone_hosts_file(const std::string& root, const ShimConfig& c) {
  if (!c.rootfs.empty()) return {};  // an image's /etc/hosts is the image's
  std::string host = std::string(kOldRoot) + "/etc/hosts";
  int in = open(host.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return {};
  std::string text = "127.0.1.1\t" + c.hostname + "\n";
  char buf[4096];
  ssize_t n;
  bool too_big = false;
  while ((n = read(in, buf, sizeof buf)) > 0) {
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > 32768) {
      too_big = true;
      break;
    }
  }
  close(in);
  if (too_big || n < 0) return {};
  int target = -1;
  if (!open_in_root(root, "/etc/hosts", &target).ok()) return {};  // no /etc/hosts in the zone: none made
  int out = open("/zone-hosts", O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
  if (out < 0 || write(out, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    if (out >= 0) close(out);
    close(target);
    return sys_error("write the zone's /etc/hosts");
  }
  close(out);
  int tree = open_tree(AT_FDCWD, "/zone-hosts", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
  struct mount_attr attr = {};
  attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
  Status s;
  if (tree < 0 || mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0) s = sys_error("the zone's /etc/hosts");
  if (s.ok()) s = attach_at(tree, target, "/etc/hosts");
  if (tree >= 0) close(tree);
  close(target);
  return s;
}

}  // namespace lxz
