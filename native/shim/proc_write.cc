#include "proc_write.h"

#include <fcntl.h>
#include <unistd.h>

#include "../common/fd.h"

namespace lxz {

Status write_file(const std::string& path, const std::string& content) {
  Fd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return sys_error("open " + path);
  if (write(fd.get(), content.data(), content.size()) != static_cast<ssize_t>(content.size()))
    return sys_error("write " + path);
  return {};
}

Status map_self_as_root(const std::string& uid, const std::string& gid) {
  LXZ_TRY(write_file("/proc/self/setgroups", "deny"));
  LXZ_TRY(write_file("/proc/self/uid_map", "0 " + uid + " 1\n"));
  return write_file("/proc/self/gid_map", "0 " + gid + " 1\n");
}

}  // namespace lxz
