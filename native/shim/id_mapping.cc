#include "id_mapping.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

#include "proc_write.h"

namespace lxz {

std::string zone_id_map(const ShimConfig& c) {
  return "0 " + std::to_string(c.id_base) + " " + std::to_string(c.id_count) + "\n";
}

Status idmap_userns(const std::string& host_proc, const std::string& uid_map, const std::string& gid_map, int* out) {
  int ready[2], done[2];
  if (pipe2(ready, O_CLOEXEC) < 0) return sys_error("pipe");
  if (pipe2(done, O_CLOEXEC) < 0) {
    close(ready[0]);
    close(ready[1]);
    return sys_error("pipe");
  }
  const std::string self_link = host_proc + "/self";
  pid_t pid = fork();
  if (pid < 0) return sys_error("fork for the id-mapping namespace");
  if (pid == 0) {
    close(ready[0]);
    close(done[1]);  // or the read below would never see the parent's close
    // Our pid as the host's /proc (reachable under the host's tree) names
    // us: the zone's pid namespace would say 2. The string is built before
    // the fork (only async-signal-safe calls here).
    char self[16] = {};
    ssize_t n = readlink(self_link.c_str(), self, sizeof self - 1);
    char msg[17] = {};
    msg[0] = (n > 0 && unshare(CLONE_NEWUSER) == 0) ? 1 : 0;
    if (n > 0) memcpy(msg + 1, self, static_cast<size_t>(n));
    (void)!write(ready[1], msg, sizeof msg);
    char b;
    (void)!read(done[0], &b, 1);  // until the parent has opened our namespace
    _exit(0);
  }
  close(ready[1]);
  close(done[0]);
  char msg[17] = {};
  Status s;
  if (read(ready[0], msg, sizeof msg) != sizeof msg || msg[0] != 1) s = Error{EPERM, "unshare the id-mapping user namespace"};
  std::string proc = host_proc + "/" + (msg + 1);
  if (s.ok()) s = write_file(proc + "/uid_map", uid_map);
  if (s.ok()) s = write_file(proc + "/gid_map", gid_map);
  if (s.ok()) {
    int fd = open((proc + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) s = sys_error("open the id-mapping user namespace");
    *out = fd;
  }
  close(ready[0]);
  close(done[1]);
  while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  return s;
}

}  // namespace lxz
