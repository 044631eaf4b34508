#include "uts_sysctl_server.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <cstdio>

#include "uts_fuse_protocol.h"
#include "uts_server_sandbox.h"
#include "uts_sysctl_files.h"

namespace lxz {
namespace {

// The serving loop, under the uts-server filter: the two connections until
// both close (their file systems go with the zone's mount namespaces); the
// keeper kills the server when the zone ends anyway.
void serve(Fd fuse[2], uint32_t owner, int zone_uts) {
  bool open[2] = {true, true};
  while (open[0] || open[1]) {
    struct pollfd p[2] = {{open[0] ? fuse[0].get() : -1, POLLIN, 0}, {open[1] ? fuse[1].get() : -1, POLLIN, 0}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    for (int i = 0; i < 2; i++) {
      if (!open[i] || !p[i].revents) continue;
      UtsFile file{kUtsSysctlFiles[i].domain, owner};
      if ((p[i].revents & (POLLERR | POLLHUP)) || !serve_fuse_request(fuse[i].get(), file, zone_uts)) open[i] = false;
    }
  }
}

// fds 3..: the two /dev/fuse files, the zone's user and UTS namespaces.
enum : int { kFuseFd0 = 3, kFuseFd1 = 4, kUserNsFd = 5, kUtsNsFd = 6, kFdCount = 4 };

[[noreturn]] void server_main(pid_t keeper, const int (&keep)[kFdCount], uint32_t owner, const std::vector<uint8_t>& filter) {
  // Nothing of the keeper's: its fds (the zone's stdio, the supervisor's
  // socket), its blocked signals. Its stderr only until the set-up is done,
  // to say why it failed.
  int high[kFdCount];
  for (int i = 0; i < kFdCount; i++)
    if ((high[i] = fcntl(keep[i], F_DUPFD_CLOEXEC, 100)) < 0) _exit(1);
  for (int i = 0; i < kFdCount; i++)
    if (dup3(high[i], kFuseFd0 + i, O_CLOEXEC) < 0) _exit(1);
  syscall(SYS_close_range, static_cast<unsigned>(kFuseFd0 + kFdCount), ~0U, 0U);
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  for (int std = 0; std < 2 && null >= 0; std++) dup3(null, std, 0);
  if (null > 2) close(null);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  prctl(PR_SET_NAME, "lxzone-utsfs", 0, 0, 0);

  Status s = enter_uts_server_sandbox(kUserNsFd);
  // After the last credential change (which clears it): we die with the keeper.
  if (s.ok() && (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != keeper)) s = Error{ESRCH, "the keeper is gone"};
  close(kUserNsFd);
  // The filter last, once nothing but serving is left to do.
  if (s.ok()) s = install_uts_server_filter(filter);
  if (!s.ok()) {
    // Our ends of the connections close with us: the zone's callers get
    // ENOTCONN, never a wait.
    dprintf(2, "lxzone-shim: /proc/sys/kernel/hostname cannot be served in the zone: %s\n", s.error().message().c_str());
    _exit(1);
  }
  close(2);  // the keeper's stderr (dup3 of /dev/null is not among the filter's calls)
  Fd fuse[2] = {Fd(kFuseFd0), Fd(kFuseFd1)};
  serve(fuse, owner, kUtsNsFd);
  _exit(0);
}

}  // namespace

Status UtsSysctlServer::prepare(const ShimConfig& c, const ZoneNamespaces& ns) {
  // Never a server without its filter (a config from a caller that sends none).
  if (c.uts_server_filter.empty()) return Error{EPERM, "no seccomp filter for lxzone-utsfs in the config (uts-server-filter)"};
  UtsSysctlConnections files;
  LXZ_TRY(make_uts_sysctl_files(c, &files));
  Fd user(fcntl(ns.user.get(), F_DUPFD_CLOEXEC, 0)), uts(fcntl(ns.uts.get(), F_DUPFD_CLOEXEC, 0));
  if (!user.valid() || !uts.valid()) return sys_error("keep the zone's user and UTS namespaces");
  for (int i = 0; i < 2; i++) fuse_[i] = std::move(files.fuse[i]);
  offer_uts_sysctl_mounts(files.mounts);
  user_ns_ = std::move(user);
  uts_ns_ = std::move(uts);
  owner_ = uts_sysctl_file_owner(c);
  filter_ = &c.uts_server_filter;  // the config lives as long as the keeper
  return {};
}

int UtsSysctlServer::awaited_fd(int i) const { return pid_ > 0 ? -1 : fuse_[i].get(); }

Status UtsSysctlServer::serve() {
  if (pid_ > 0 || !fuse_[0].valid() || filter_ == nullptr) return {};
  pid_t keeper = getpid();
  pid_t child = fork();
  if (child < 0) return sys_error("fork the UTS sysctl server");
  if (child == 0) {
    const int keep[kFdCount] = {fuse_[0].get(), fuse_[1].get(), user_ns_.get(), uts_ns_.get()};
    server_main(keeper, keep, owner_, *filter_);
  }
  pid_ = child;
  // The server holds the connections alone from here: if it fails, they
  // close with it.
  for (Fd& f : fuse_) f.reset();
  user_ns_.reset();
  uts_ns_.reset();
  return {};
}

void UtsSysctlServer::release_mounts() { release_uts_sysctl_mounts(); }

void UtsSysctlServer::kill() {
  if (pid_ > 0) ::kill(pid_, SIGKILL);
}

void UtsSysctlServer::stop() {
  for (Fd& f : fuse_) f.reset();
  user_ns_.reset();
  uts_ns_.reset();
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

}  // namespace lxz
