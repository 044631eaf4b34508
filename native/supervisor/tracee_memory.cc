#include "tracee_memory.h"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>
#include <cerrno>
#include <algorithm>
#include <cstring>

namespace lxz {

bool notification_valid(int listener, uint64_t id) {
  return ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
}

int write_tracee(int listener, uint64_t id, pid_t pid, uint64_t addr, const void* data, size_t len) {
  if (!notification_valid(listener, id)) return ENOENT;
  struct iovec local = {const_cast<void*>(data), len};
  struct iovec remote = {reinterpret_cast<void*>(addr), len};
  ssize_t n = process_vm_writev(pid, &local, 1, &remote, 1, 0);
  if (n < 0) return errno == ESRCH ? ENOENT : EFAULT;
  return static_cast<size_t>(n) == len ? 0 : EFAULT;
}

int read_tracee_string(int listener, uint64_t id, pid_t pid, uint64_t addr, size_t max, std::string* out) {
  out->clear();
  if (max > kMaxTraceeString) max = kMaxTraceeString;
  char buf[256];
  while (out->size() < max) {
    // Never cross a page boundary in one read: the next page may be unmapped.
    size_t room = 4096 - ((addr + out->size()) & 4095);
    size_t chunk = std::min({sizeof buf, room, max - out->size()});
    struct iovec local = {buf, chunk};
    struct iovec remote = {reinterpret_cast<void*>(addr + out->size()), chunk};
    ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (n <= 0) return out->empty() ? EFAULT : 0;
    const char* nul = static_cast<const char*>(std::memchr(buf, 0, static_cast<size_t>(n)));
    if (nul) {
      out->append(buf, static_cast<size_t>(nul - buf));
      break;
    }
    out->append(buf, static_cast<size_t>(n));
  }
  return notification_valid(listener, id) ? 0 : ENOENT;
}

std::string read_proc_file(pid_t pid, const char* name, size_t max) {
  std::string path = "/proc/" + std::to_string(pid) + "/" + name;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  std::string out;
  char buf[4096];
  while (out.size() < max) {
    ssize_t n = read(fd, buf, std::min(sizeof buf, max - out.size()));
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

}  // namespace lxz
