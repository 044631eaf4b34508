// A small file read whole with read(2). The shim reads /proc files this way,
// not with iostreams: the first stream in a process builds the C++ locale
// (some thirty facets, pages of memory written), and with no stream at all
// the linker leaves the locale's code and relocated tables out of the
// binary, which every zone start maps and relocates (issue 18).
#pragma once
#include <fcntl.h>
#include <unistd.h>
#include <cerrno>
#include <string>

namespace lxz {

// False if the file cannot be opened or read; *out holds what was read.
inline bool read_text_file(const std::string& path, std::string* out) {
  out->clear();
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = true;
  for (;;) {
    size_t have = out->size();
    out->resize(have + 4096);
    ssize_t n = read(fd, &(*out)[have], 4096);
    out->resize(have + (n > 0 ? static_cast<size_t>(n) : 0));
    if (n > 0) continue;
    if (n < 0 && errno == EINTR) continue;
    ok = n == 0;
    break;
  }
  close(fd);
  return ok;
}

}  // namespace lxz
