#include "remove_beneath.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

namespace lxz {
namespace {

// Deeper than this is not a tree anyone means (and would hold as many fds).
constexpr int kMaxDepth = 512;

// Empties the directory `dir` (the fd is taken and closed).
Status empty_dir(int dir, const std::string& shown, int depth) {
  if (depth > kMaxDepth) {
    close(dir);
    return Error{ELOOP, "remove " + shown + ": deeper than 512 directories"};
  }
  DIR* d = fdopendir(dir);
  if (!d) {
    Status s = sys_error("fdopendir " + shown);
    close(dir);
    return s;
  }
  Status s;
  for (;;) {
    errno = 0;
    struct dirent* e = readdir(d);
    if (!e) {
      if (errno != 0) s = sys_error("readdir " + shown);
      break;
    }
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    if (unlinkat(dirfd(d), e->d_name, 0) == 0 || errno == ENOENT) continue;
    if (errno != EISDIR && errno != EPERM) {
      s = sys_error("unlink " + shown + "/" + e->d_name);
      break;
    }
    int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME);
    if (sub < 0 && errno == EPERM) sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0) {
      s = sys_error("open " + shown + "/" + e->d_name);
      break;
    }
    s = empty_dir(sub, shown + "/" + e->d_name, depth + 1);
    if (!s.ok()) break;
    if (unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
      s = sys_error("rmdir " + shown + "/" + e->d_name);
      break;
    }
    // The directory changed under us: read it again from the start.
    rewinddir(d);
  }
  closedir(d);
  return s;
}

}  // namespace

Status remove_beneath(const std::string& parent, const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
    return Error{EINVAL, "remove: \"" + name + "\" is not one path component"};
  struct open_how how = {};
  how.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
  how.resolve = RESOLVE_NO_SYMLINKS;
  int p = static_cast<int>(syscall(SYS_openat2, AT_FDCWD, parent.c_str(), &how, sizeof how));
  if (p < 0) return sys_error("open " + parent);
  Status s;
  if (unlinkat(p, name.c_str(), 0) == 0 || errno == ENOENT) {
    close(p);
    return s;
  }
  if (errno != EISDIR && errno != EPERM) s = sys_error("unlink " + parent + "/" + name);
  if (s.ok()) {
    int sub = openat(p, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0) s = sys_error("open " + parent + "/" + name);
    else s = empty_dir(sub, parent + "/" + name, 0);
  }
  if (s.ok() && unlinkat(p, name.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT) s = sys_error("rmdir " + parent + "/" + name);
  close(p);
  return s;
}

}  // namespace lxz
