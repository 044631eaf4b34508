#include "start_gate.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>

namespace lxz {

Status open_start_gate(const std::string& path, int* out) {
  *out = -1;
  // No symlink followed: the path is lxzone-runc's own, under its root-only state directory.
  int fd = open(path.c_str(), O_PATH | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return sys_error("open the start fifo " + path);
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode)) {
    close(fd);
    return Error{EINVAL, "start fifo " + path + " is not a fifo"};
  }
  *out = fd;
  return {};
}

Status await_start(int gate_fd) {
  // Reopening through the magic link checks the fifo's permissions against
  // the zone's user (lxzone-runc gives the fifo to that user's host id) and
  // blocks until `start` opens it for reading.
  std::string self = "/proc/self/fd/" + std::to_string(gate_fd);
  int w;
  do {
    w = open(self.c_str(), O_WRONLY | O_CLOEXEC);
  } while (w < 0 && errno == EINTR);
  if (w < 0) return sys_error("open the start fifo for writing");
  ssize_t n;
  do {
    n = write(w, "0", 1);
  } while (n < 0 && errno == EINTR);
  int saved = errno;
  close(w);
  close(gate_fd);
  if (n != 1) return Error{saved, "write the start fifo"};
  return {};
}

}  // namespace lxz
