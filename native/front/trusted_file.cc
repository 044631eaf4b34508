#include "trusted_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "../common/fd.h"
#include "trusted_ancestors.h"

namespace lxz::front {
namespace {

// A description is tens of KiB (a hex filter and dispatch table); far more is not one.
constexpr off_t kMaxDescription = 16 << 20;

const char* absolute_env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && v[0] == '/' ? v : nullptr;
}

// path.normalize for an absolute path: no empty or "." parts, ".." resolved.
std::string normalize(const std::string& path) {
  std::vector<std::string> parts;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string::npos) slash = path.size();
    std::string part = path.substr(pos, slash - pos);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    pos = slash + 1;
  }
  std::string out;
  for (const std::string& p : parts) out += "/" + p;
  return out.empty() ? "/" : out;
}

bool private_to_us(const struct stat& st, mode_t type, std::string* why, const std::string& what) {
  if ((st.st_mode & S_IFMT) != type) {
    *why = what + " is not a " + (type == S_IFDIR ? "directory" : "regular file");
    return false;
  }
  if (st.st_uid != geteuid()) {
    *why = what + " is owned by uid " + std::to_string(st.st_uid);
    return false;
  }
  if ((st.st_mode & 022) != 0) {
    *why = what + " is writable by group or others";
    return false;
  }
  return true;
}

// Opens `name` under `dir` with no symlink followed at its last component; ENOENT is kAbsent.
Found open_checked(int dir, const std::string& name, const std::string& what, mode_t type, Fd* out, std::string* why) {
  int flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | (type == S_IFDIR ? O_DIRECTORY : O_NONBLOCK);
  Fd fd(openat(dir, name.c_str(), flags));
  if (!fd.valid()) {
    *why = what + ": " + std::strerror(errno);
    return errno == ENOENT ? Found::kAbsent : Found::kUntrusted;
  }
  struct stat st;
  if (fstat(fd.get(), &st) < 0) {
    *why = what + ": fstat: " + std::strerror(errno);
    return Found::kUntrusted;
  }
  if (!private_to_us(st, type, why, what)) return Found::kUntrusted;
  if (type == S_IFREG && st.st_size > kMaxDescription) {
    *why = what + " is too large to be a description";
    return Found::kUntrusted;
  }
  *out = std::move(fd);
  return Found::kRead;
}

}  // namespace

std::string runtime_dir() {
  // Normalized as Node's path.join normalizes every path it makes under it.
  if (const char* v = absolute_env("LXZONE_RUNTIME_DIR")) return normalize(v);
  uid_t uid = getuid();
  if (uid == 0) return "/run/lxzone";
  if (const char* x = absolute_env("XDG_RUNTIME_DIR")) return normalize(std::string(x) + "/lxzone");
  return "/tmp/lxzone-" + std::to_string(uid);
}

Found read_trusted_description(const std::string& runtime, const std::string& name, std::string* bytes, std::string* why) {
  Fd above, rt, launch, file;
  // runtime_dir() is normalized: no trailing slash (which would have a
  // symlink at the last name followed despite O_NOFOLLOW), no "." or "..".
  const size_t slash = runtime.rfind('/');
  if (runtime.empty() || runtime[0] != '/' || slash + 1 == runtime.size()) {
    *why = "the runtime directory " + runtime + " is not an absolute path below /";
    return Found::kUntrusted;
  }
  Found f = open_trusted_ancestors(slash == 0 ? "/" : runtime.substr(0, slash), &above, why);
  if (f != Found::kRead) return f;
  f = open_checked(above.get(), runtime.substr(slash + 1), runtime, S_IFDIR, &rt, why);
  if (f != Found::kRead) return f;
  f = open_checked(rt.get(), "launch", runtime + "/launch", S_IFDIR, &launch, why);
  if (f != Found::kRead) return f;
  const std::string path = runtime + "/launch/" + name;
  f = open_checked(launch.get(), name, path, S_IFREG, &file, why);
  if (f != Found::kRead) return f;
  bytes->clear();
  char buf[65536];
  for (;;) {
    ssize_t n = read(file.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *why = path + ": read: " + std::strerror(errno);
      return Found::kUntrusted;
    }
    if (n == 0) break;
    bytes->append(buf, static_cast<size_t>(n));
    if (bytes->size() > static_cast<size_t>(kMaxDescription)) {
      *why = path + " is too large to be a description";
      return Found::kUntrusted;
    }
  }
  *why = path;
  return Found::kRead;
}

}  // namespace lxz::front
