#include "trusted_ancestors.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace lxz::front {
namespace {

std::string mode_octal(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// Root or the caller may change this directory, no one else. Writable by
// group or others is refused unless sticky: in a sticky directory only the
// owner of an entry, the directory's owner and root may rename or remove the
// entry. That protects the one entry on our path beneath it, because that
// entry (an ancestor, or the runtime directory itself) is checked in turn to
// be owned by root or us, and the sticky directory by root or us. Others may
// still add names there, which matters nowhere on the path, since each name
// we go through is opened and checked. So /tmp (root, 1777) may hold
// /tmp/lxzone-UID; the runtime directory and launch/ themselves get no such
// exception (trusted_file.cc): a name added in them could be a description.
bool trusted_ancestor(const struct stat& st, const std::string& path, std::string* why) {
  if (!S_ISDIR(st.st_mode)) {
    *why = path + " is not a directory";
    return false;
  }
  if (st.st_uid != 0 && st.st_uid != geteuid()) {
    *why = path + " is owned by uid " + std::to_string(st.st_uid);
    return false;
  }
  if ((st.st_mode & 022) != 0 && (st.st_mode & S_ISVTX) == 0) {
    *why = path + " is writable by group or others (mode " + mode_octal(st.st_mode) + ") and not sticky";
    return false;
  }
  return true;
}

Found open_checked_ancestor(int parent, const char* name, const std::string& path, Fd* out, std::string* why) {
  // O_PATH: a directory of root's with no read permission (a 0711 home) is still walked through.
  Fd fd(openat(parent, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    *why = path + ": " + std::strerror(errno);
    return errno == ENOENT ? Found::kAbsent : Found::kUntrusted;
  }
  struct stat st;
  if (fstat(fd.get(), &st) < 0) {
    *why = path + ": fstat: " + std::strerror(errno);
    return Found::kUntrusted;
  }
  if (!trusted_ancestor(st, path, why)) return Found::kUntrusted;
  *out = std::move(fd);
  return Found::kRead;
}

}  // namespace

Found open_trusted_ancestors(const std::string& dir, Fd* out, std::string* why) {
  char real[PATH_MAX];
  if (realpath(dir.c_str(), real) == nullptr) {
    *why = dir + ": " + std::strerror(errno);
    return errno == ENOENT ? Found::kAbsent : Found::kUntrusted;
  }
  // Walked afresh rather than trusted from realpath: a directory renamed since
  // then fails the walk (a symlink or a missing name) instead of being used.
  const std::string canonical = real;
  Found f = open_checked_ancestor(AT_FDCWD, "/", "/", out, why);
  size_t pos = 1;
  while (f == Found::kRead && pos < canonical.size()) {
    size_t slash = canonical.find('/', pos);
    if (slash == std::string::npos) slash = canonical.size();
    const std::string name = canonical.substr(pos, slash - pos);
    Fd next;
    f = open_checked_ancestor(out->get(), name.c_str(), canonical.substr(0, slash), &next, why);
    *out = std::move(next);
    pos = slash + 1;
  }
  // Renamed away between realpath and the walk: untrusted, not absent (Node would not make it there).
  return f == Found::kAbsent ? Found::kUntrusted : f;
}

}  // namespace lxz::front
