#include "mount_calls.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cerrno>

namespace lxz {

Status do_mount(const char* source, const std::string& target, const char* type, unsigned long flags,
                const std::string& data) {
  if (mount(source, target.c_str(), type, flags, data.empty() ? nullptr : data.c_str()) < 0)
    return sys_error(std::string("mount ") + (type ? type : source ? source : "") + " on " + target);
  return {};
}

Status make_dir(const std::string& path, mode_t mode) {
  if (mkdir(path.c_str(), mode) < 0 && errno != EEXIST) return sys_error("mkdir " + path);
  return {};
}

Status make_file(const std::string& path) {
  int fd = open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return sys_error("create " + path);
  close(fd);
  return {};
}

Status make_symlink(const char* target, const std::string& path) {
  if (symlink(target, path.c_str()) < 0 && errno != EEXIST) return sys_error("symlink " + path);
  return {};
}

Status set_recursive_attrs(const std::string& path, uint64_t set) {
  struct mount_attr attr = {};
  attr.attr_set = set;
  if (syscall(SYS_mount_setattr, AT_FDCWD, path.c_str(), AT_RECURSIVE, &attr, sizeof attr) < 0)
    return sys_error("mount_setattr " + path);
  return {};
}

bool is_dir(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

Status open_how(int dirfd, const std::string& path, uint64_t resolve, int* out, const std::string& what) {
  struct open_how how = {};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = resolve;
  long fd = syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof how);
  if (fd < 0) return sys_error(what);
  *out = static_cast<int>(fd);
  return {};
}

// A path of the zone, resolved inside the zone's root: symlinks and ".." in an
// image can never lead a mount outside it.
Status open_in_root(const std::string& root, const std::string& path, int* out) {
  int root_fd = -1;
  LXZ_TRY(open_how(AT_FDCWD, root, RESOLVE_NO_SYMLINKS, &root_fd, "open " + root));
  Status s = open_how(root_fd, "." + path, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS, out, "mount target " + path + " in the zone's root");
  close(root_fd);
  return s;
}

Status attach_at(int tree, int target_fd, const std::string& what) {
  if (move_mount(tree, "", target_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    return sys_error("move_mount " + what);
  return {};
}

}  // namespace lxz
