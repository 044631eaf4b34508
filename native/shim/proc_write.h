// Writes to the kernel's control files (/proc/self/uid_map, sysctls, cgroup
// procs, timens_offsets): one write of the whole value, or an error naming
// the file.
#pragma once
#include <string>

#include "../common/result.h"

namespace lxz {

Status write_file(const std::string& path, const std::string& content);

// This process's user namespace, just unshared, maps its one id, root, onto
// `uid`:`gid` outside (ids an unprivileged process may map: its own), with
// setgroups denied as the kernel wants before such a gid_map.
Status map_self_as_root(const std::string& uid, const std::string& gid);

}  // namespace lxz
