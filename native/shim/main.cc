// lxzone-shim: builds one zone and execs a binary in it.
//
//   lxzone-shim --config-fd N --seccomp-fd N --control-fd N
//
// The config fd carries NUL-terminated key=value records (config.h), the
// seccomp fd a compiled BPF program, the control fd a SEQPACKET socket to the
// supervisor. The shim is single-threaded: namespaces (user namespaces above
// all) cannot be entered from Node's multi-threaded process.
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "config.h"
#include "keeper.h"
#include "notify_probe.h"
#include "process_title.h"
#include "seccomp_install.h"
#include "../common/unix_socket.h"

namespace {

constexpr size_t kConfigLimit = 4 << 20;   // argv + env + mounts; far above any sane zone
constexpr size_t kFilterLimit = 4096 * 8;  // BPF_MAXINSNS instructions

int usage(const char* why) {
  dprintf(2, "lxzone-shim: %s\nusage: lxzone-shim --config-fd N --seccomp-fd N --control-fd N | --probe-notification\n", why);
  return 125;
}

bool parse_fd(const char* s, int* out) {
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(s, &end, 10);
  if (errno || !end || *end || v < 3 || v > 1 << 20) return false;
  *out = static_cast<int>(v);
  return true;
}

bool is_seqpacket(int fd) {
  int type = 0;
  socklen_t len = sizeof type;
  return getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_SEQPACKET;
}

}  // namespace

int main(int argc, char** argv) {
  lxz::remember_argv(argc, argv);
  if (argc == 2 && !std::strcmp(argv[1], "--probe-notification")) return lxz::probe_notification_mode();
  int config_fd = -1, seccomp_fd = -1, control_fd = -1;
  for (int i = 1; i < argc; i++) {
    int* target = nullptr;
    if (!std::strcmp(argv[i], "--config-fd")) target = &config_fd;
    else if (!std::strcmp(argv[i], "--seccomp-fd")) target = &seccomp_fd;
    else if (!std::strcmp(argv[i], "--control-fd")) target = &control_fd;
    else return usage((std::string("unknown argument: ") + argv[i]).c_str());
    if (i + 1 >= argc || !parse_fd(argv[++i], target)) return usage("fd arguments must be numbers >= 3");
  }
  if (config_fd < 0 || seccomp_fd < 0 || control_fd < 0) return usage("all three fds are required");
  if (fcntl(config_fd, F_GETFD) < 0 || fcntl(seccomp_fd, F_GETFD) < 0 || fcntl(control_fd, F_GETFD) < 0)
    return usage("an fd given is not open");
  if (!is_seqpacket(control_fd)) return usage("the control fd is not a SEQPACKET socket");
  fcntl(control_fd, F_SETFD, FD_CLOEXEC);

  lxz::ShimConfig config;
  std::string bytes, filter;
  lxz::Status s = lxz::read_all(config_fd, kConfigLimit, &bytes, "config fd");
  if (s.ok()) s = lxz::parse_config(bytes, &config);
  if (s.ok()) {
    s = lxz::read_all(seccomp_fd, kFilterLimit + 1, &filter, "seccomp fd");
    if (!s.ok() && s.error().err == E2BIG) s = lxz::Error{E2BIG, "seccomp filter has more than 4096 instructions"};
  }
  if (s.ok()) s = lxz::check_filter(filter);
  close(config_fd);
  close(seccomp_fd);
  if (!s.ok()) {
    dprintf(2, "lxzone-shim: %s\n", s.error().message().c_str());
    lxz::send_control(control_fd, lxz::ControlType::kSetupFailed, s.error().err, 0, s.error().message());
    return 125;
  }
  // Rootless: the zone's root is the caller's own uid, mapped alone.
  config.rootless = geteuid() != 0;
  if (config.rootless && (config.uid != 0 || config.gid != 0 || config.network == lxz::NetworkMode::kZone ||
                          !config.cgroup_procs.empty())) {
    const char* why = "rootless zones have one id (root) and no zone network or cgroups: run as root for those";
    dprintf(2, "lxzone-shim: %s\n", why);
    lxz::send_control(control_fd, lxz::ControlType::kSetupFailed, EPERM, 0, why);
    return 125;
  }
  lxz::KeeperArgs args{&config, &filter, control_fd};
  return lxz::run_keeper(args);
}
