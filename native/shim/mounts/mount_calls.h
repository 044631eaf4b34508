// The steps every part of the zone's filesystem is built from, as Status
// values: mount(2) and the newer mount calls, files and directories made for
// mounts, and paths of the zone opened inside the zone's root, never through
// it (see build_zone_filesystem in ../mounts.cc for the order they make).
#pragma once
#include <sys/mount.h>
#include <sys/types.h>
#include <cstdint>
#include <string>

#include "../../common/result.h"
#include "../mount_api.h"

namespace lxz {

// Where the host's root is reachable while we build (see build_zone_filesystem).
constexpr const char* kOldRoot = "/oldroot";
constexpr const char* kNewRoot = "/newroot";
constexpr const char* kDevNull = "/oldroot/dev/null";

Status do_mount(const char* source, const std::string& target, const char* type, unsigned long flags,
                const std::string& data = {});

Status make_dir(const std::string& path, mode_t mode);
Status make_file(const std::string& path);
Status make_symlink(const char* target, const std::string& path);
bool is_dir(const std::string& path);

// mount_setattr(2) of `path` and every mount below it.
Status set_recursive_attrs(const std::string& path, uint64_t set);

// openat2(2) of `path` as O_PATH with `resolve`; `what` names it in an error.
Status open_how(int dirfd, const std::string& path, uint64_t resolve, int* out, const std::string& what);

// A path of the zone, resolved inside the zone's root: symlinks and ".." in an
// image can never lead a mount outside it.
Status open_in_root(const std::string& root, const std::string& path, int* out);

// move_mount(2) of a detached tree onto an opened target.
Status attach_at(int tree, int target_fd, const std::string& what);

}  // namespace lxz
