#include "zone_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <vector>

#include "../common/unix_socket.h"
#include "capabilities.h"
#include "init_reaper.h"
#include "mounts.h"
#include "seccomp_install.h"

namespace lxz {
namespace {

[[noreturn]] void fail(int sync_fd, const Error& e) {
  send_control(sync_fd, ControlType::kSetupFailed, e.err, 0, e.message());
  _exit(125);
}

void check(int sync_fd, const Status& s) {
  if (!s.ok()) fail(sync_fd, s.error());
}

// Blocks until the keeper says `want`; a closed socket means the keeper is gone.
void await(int sync_fd, ControlType want) {
  ControlMessage msg;
  int r = recv_control(sync_fd, &msg);
  if (r <= 0) _exit(125);
  if (msg.fd >= 0) close(msg.fd);
  if (msg.header.type == ControlType::kAbort) _exit(125);
  if (msg.header.type != want) fail(sync_fd, Error{EPROTO, "unexpected message from the keeper"});
}

bool keeper_gone(int sync_fd) {
  struct pollfd p = {sync_fd, POLLIN, 0};
  return poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR));
}

Status bring_up_loopback() {
  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return sys_error("socket for loopback");
  struct ifreq ifr = {};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  int r = ioctl(sock, SIOCGIFFLAGS, &ifr);
  if (r == 0) {
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    r = ioctl(sock, SIOCSIFFLAGS, &ifr);
  }
  int saved = errno;
  close(sock);
  if (r < 0) return Error{saved, "bring up lo"};
  return {};
}

Status become_zone_user(const ShimConfig& c) {
  // Zone root first: full capabilities in the new user namespace, to trim them.
  if (setresgid(0, 0, 0) < 0) return sys_error("setresgid 0");
  if (setresuid(0, 0, 0) < 0) return sys_error("setresuid 0");
  if (setgroups(0, nullptr) < 0) return sys_error("setgroups");
  LXZ_TRY(drop_capabilities_to_zone_set());
  if (c.gid != 0 && setresgid(c.gid, c.gid, c.gid) < 0) return sys_error("setresgid");
  if (c.uid != 0 && setresuid(c.uid, c.uid, c.uid) < 0) return sys_error("setresuid");
  return {};
}

// Only 0, 1, 2 and the keeper's socket survive; nothing of the host leaks in.
void close_inherited_fds(int keep) {
  if (keep > 3) syscall(SYS_close_range, 3, keep - 1, 0);
  syscall(SYS_close_range, keep + 1, ~0U, 0);
}

[[noreturn]] void exec_binary(const ShimConfig& c, int sync_fd) {
  std::vector<char*> argv;
  for (const std::string& a : c.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const std::string& e : c.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  // execvp searches the PATH of `environ`: make it the zone's.
  environ = envp.data();
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  execvp(argv[0], argv.data());
  int err = errno;
  send_control(sync_fd, ControlType::kExecFailed, err, 0, c.argv[0]);
  _exit(err == ENOENT ? 127 : 126);
}

}  // namespace

void zone_process_main(const ZoneProcessArgs& args) {
  const ShimConfig& c = *args.config;
  const int sync = args.sync_fd;
  // Dies with the keeper; the zone then collapses with its pid namespace.
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);

  await(sync, ControlType::kContinue);  // cgroups and network are in place
  if (unshare(CLONE_NEWCGROUP) < 0) fail(sync, sys_error("unshare cgroup namespace"));
  if (sethostname(c.hostname.data(), c.hostname.size()) < 0) fail(sync, sys_error("sethostname"));
  if (c.network != NetworkMode::kNone) check(sync, bring_up_loopback());
  check(sync, build_zone_filesystem(c));

  // The user namespace comes last, with a mount namespace of its own: every
  // mount built above is now locked, its flags and masks out of reach.
  if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0) fail(sync, sys_error("unshare user namespace"));
  check(sync, send_control(sync, ControlType::kIdMapRequest));
  await(sync, ControlType::kIdMapDone);
  check(sync, become_zone_user(c));
  // Changing credentials cleared the parent-death signal: set it again, then
  // make sure the keeper did not die in between.
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (keeper_gone(sync)) _exit(125);
  if (chdir(c.cwd.c_str()) < 0) fail(sync, sys_error("working directory " + c.cwd));
  close_inherited_fds(sync);

  int listener = -1;
  check(sync, install_filter(*args.filter, &listener));
  // From here on every syscall goes through the zone's filter.
  check(sync, send_control(sync, ControlType::kReady, 0, 0, {}, listener));
  close(listener);

  if (!c.init) exec_binary(c, sync);
  pid_t child = fork();
  if (child < 0) fail(sync, sys_error("fork the zone's first process"));
  if (child == 0) exec_binary(c, sync);
  close(sync);
  run_init_reaper(child);
}

}  // namespace lxz
