// sysfs(2), obsolete since Linux 2.0 but still in the table (illumos LX
// emulated it too): filesystem type names by index. Linux answers from its
// list of registered filesystems, which /proc/filesystems prints in the same
// order; the supervisor reads that (the host's procfs, never a path in the
// zone), so a zone sees the indexes a native process would.
//   option 1: fsname (string) -> its index, EINVAL if unknown
//   option 2: index, buf      -> the name, NUL-terminated, into buf
//   option 3:                 -> the number of types
#include <fcntl.h>
#include <unistd.h>
#include <cerrno>
#include <string>
#include <vector>

#include "../tracee_memory.h"
#include "handler.h"

namespace lxz {
namespace {

std::vector<std::string> filesystem_types() {
  std::vector<std::string> out;
  int fd = open("/proc/filesystems", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  std::string text;
  char buf[4096];
  ssize_t n;
  while (text.size() < 65536 && (n = read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  close(fd);
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    size_t tab = text.find('\t', pos);  // "nodev\tname" or "\tname"
    if (tab != std::string::npos && tab < end) out.push_back(text.substr(tab + 1, end - tab - 1));
    pos = end + 1;
  }
  return out;
}

}  // namespace

Reply handle_sysfs(Call& call) {
  const auto& a = call.req.data.args;
  int option = static_cast<int>(a[0]);
  pid_t pid = static_cast<pid_t>(call.req.pid);
  std::vector<std::string> types = filesystem_types();
  switch (option) {
    case 1: {
      std::string name;
      // Linux copies the name with getname(): EFAULT for a bad pointer.
      int err = read_tracee_string(call.listener, call.req.id, pid, a[1], 256, &name);
      if (err) return Reply::error_of(err == ENOENT ? ENOENT : EFAULT);
      for (size_t i = 0; i < types.size(); i++)
        if (types[i] == name) return Reply::value_of(static_cast<int64_t>(i));
      return Reply::error_of(EINVAL);
    }
    case 2: {
      uint32_t index = static_cast<uint32_t>(a[1]);
      if (index >= types.size()) return Reply::error_of(EINVAL);
      const std::string& name = types[index];
      uint64_t buf = call.is_32bit() ? (a[2] & 0xffffffffull) : a[2];
      int err = write_tracee(call.listener, call.req.id, pid, buf, name.c_str(), name.size() + 1);
      if (err) return Reply::error_of(err == ENOENT ? ENOENT : EFAULT);
      return Reply::value_of(0);
    }
    case 3:
      return Reply::value_of(static_cast<int64_t>(types.size()));
    default:
      return Reply::error_of(EINVAL);
  }
}

}  // namespace lxz
