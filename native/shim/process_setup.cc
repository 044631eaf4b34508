#include "process_setup.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cerrno>
#include <algorithm>
#include <vector>

#include "../common/unix_socket.h"
#include "capabilities.h"
#include "seccomp_install.h"
#include "session_keyring.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

namespace lxz {

void fail(int sync_fd, const Error& e) {
  send_control(sync_fd, ControlType::kSetupFailed, e.err, 0, e.message());
  _exit(125);
}

void check(int sync_fd, const Status& s) {
  if (!s.ok()) fail(sync_fd, s.error());
}

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

Status become_zone_user(const ShimConfig& c) {
  if (setresgid(0, 0, 0) < 0) return sys_error("setresgid 0");
  if (setresuid(0, 0, 0) < 0) return sys_error("setresuid 0");
  if (setgroups(0, nullptr) < 0 && !c.rootless) return sys_error("setgroups");
  LXZ_TRY(drop_capabilities_to_zone_set(c.has_caps ? &c.caps : nullptr));
  // With configured sets, the permitted set survives the uid change (runc's order).
  if (c.has_caps && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) return sys_error("keep capabilities");
  // Supplementary groups (OCI additionalGids) while CAP_SETGID is still ours;
  // zone ids, mapped like the gid.
  if (!c.groups.empty()) {
    std::vector<gid_t> groups(c.groups.begin(), c.groups.end());
    if (setgroups(groups.size(), groups.data()) < 0) return sys_error("setgroups (additionalGids)");
  }
  if (c.gid != 0 && setresgid(c.gid, c.gid, c.gid) < 0) return sys_error("setresgid");
  if (c.uid != 0 && setresuid(c.uid, c.uid, c.uid) < 0) return sys_error("setresuid");
  if (c.has_caps) {
    if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) return sys_error("clear keep-capabilities");
    LXZ_TRY(finish_capabilities(c.caps));
  }
  return {};
}

Status open_zone_tty(const ShimConfig& c, int sync_fd, int* slave) {
  *slave = -1;
  if (!c.tty) return {};
  int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) return sys_error("open /dev/ptmx in the zone");
  if (unlockpt(master) < 0) {
    close(master);
    return sys_error("unlockpt");
  }
  int s = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
  if (s < 0) {
    close(master);
    return sys_error("open the terminal's slave");
  }
  if (c.system) {
    // systemd writes its status to /dev/console (and runs a getty there):
    // the zone's terminal, whose output the keeper copies to the zone's log.
    // A mount of the zone's own namespace (CAP_SYS_ADMIN there), over the
    // file mount_dev made; the zone's root could unmount it, to no gain.
    unsigned int n = 0;
    Status bound;
    if (ioctl(master, TIOCGPTN, &n) < 0) bound = sys_error("number of the zone's terminal");
    else if (mount(("/dev/pts/" + std::to_string(n)).c_str(), "/dev/console", nullptr, MS_BIND, nullptr) < 0)
      bound = sys_error("bind the zone's terminal to /dev/console");
    if (!bound.ok()) {
      close(master);
      close(s);
      return bound;
    }
  }
  Status sent = send_control(sync_fd, ControlType::kTtyMaster, 0, 0, {}, master);
  close(master);
  if (!sent.ok()) {
    close(s);
    return sent;
  }
  *slave = s;
  return {};
}

Status apply_rlimits(const ShimConfig& c) {
  for (const Rlimit& r : c.rlimits) {
    struct rlimit rl = {r.soft == UINT64_MAX ? RLIM_INFINITY : r.soft, r.hard == UINT64_MAX ? RLIM_INFINITY : r.hard};
    if (setrlimit(r.resource, &rl) < 0) return sys_error("setrlimit " + std::to_string(r.resource));
  }
  return {};
}

void close_inherited_fds(std::vector<int> keep) {
  std::sort(keep.begin(), keep.end());
  unsigned int next = 3;
  for (int fd : keep) {
    if (fd < 3 || static_cast<unsigned int>(fd) < next) continue;
    if (static_cast<unsigned int>(fd) > next) syscall(SYS_close_range, next, fd - 1, 0);
    next = static_cast<unsigned int>(fd) + 1;
  }
  syscall(SYS_close_range, next, ~0U, 0);
}

int install_filter_and_report(const std::string& filter, int sync_fd) {
  // Once the filter is in, any syscall of ours may be notified (the trace
  // profile notifies all of them) and would wait for a supervisor that does
  // not have the listener yet. So the keeper takes the listener itself, with
  // pidfd_getfd, at the fd number we tell it now: the lowest free one, which
  // seccomp(2) will return (we are single-threaded).
  int expected = fcntl(0, F_DUPFD_CLOEXEC, 0);
  if (expected < 0) fail(sync_fd, sys_error("find a free fd"));
  close(expected);
  check(sync_fd, send_control(sync_fd, ControlType::kFilterComing, expected));
  int listener = -1;
  Status s = install_filter(filter, &listener);
  if (!s.ok()) fail(sync_fd, s.error());
  // From here on every syscall goes through the zone's filter. If the number
  // differs the keeper never finds the listener and stops the zone.
  if (listener != expected) _exit(125);
  return listener;
}

void release_listener(int sync_fd, int listener) {
  // Kept open until the keeper has it (this wait may itself be notified,
  // and is answered once the supervisor holds the listener).
  await(sync_fd, ControlType::kListenerTaken);
  close(listener);
}

int enter_zone_and_filter(const ShimConfig& c, const std::string& filter, int sync_fd, int start_gate, int* pending_listener) {
  check(sync_fd, become_zone_user(c));
  // After the last credential change, so the keyring and its quota are the
  // zone user's (session_keyring.h).
  check(sync_fd, join_fresh_session_keyring());
  // Changing credentials cleared the parent-death signal: set it again, then
  // make sure the keeper did not die in between.
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (keeper_gone(sync_fd)) _exit(125);
  if (chdir(c.cwd.c_str()) < 0) fail(sync_fd, sys_error("working directory " + c.cwd));
  if (c.umask >= 0) umask(static_cast<mode_t>(c.umask));
  int tty_slave = -1;
  check(sync_fd, open_zone_tty(c, sync_fd, &tty_slave));
  std::vector<int> keep = {sync_fd, tty_slave, start_gate};
  keep.insert(keep.end(), c.preserve_fds.begin(), c.preserve_fds.end());
  close_inherited_fds(keep);
  int listener = install_filter_and_report(filter, sync_fd);
  if (pending_listener) *pending_listener = listener;
  else release_listener(sync_fd, listener);
  return tty_slave;
}

// --preserve-fds: the caller's fds become 3, 4, ... of the binary, inheritable.
// Everything that could sit at those numbers moves above them first (the sync
// socket, close-on-exec, which still reports a failed exec).
int place_preserved_fds(const ShimConfig& c, int sync_fd) {
  const int n = static_cast<int>(c.preserve_fds.size());
  if (n == 0) return sync_fd;
  const int above = 3 + n;
  int moved_sync = fcntl(sync_fd, F_DUPFD_CLOEXEC, above);
  if (moved_sync < 0) fail(sync_fd, sys_error("move the sync socket above the preserved fds"));
  close(sync_fd);
  std::vector<int> tmp;
  for (int fd : c.preserve_fds) {
    int t = fcntl(fd, F_DUPFD, above);
    if (t < 0) fail(moved_sync, sys_error("preserve fd " + std::to_string(fd)));
    tmp.push_back(t);
  }
  for (int fd : c.preserve_fds) close(fd);
  for (int i = 0; i < n; i++) {
    if (dup2(tmp[i], 3 + i) < 0) fail(moved_sync, sys_error("place preserved fd " + std::to_string(3 + i)));
    close(tmp[i]);
  }
  return moved_sync;
}

ExecArgs exec_args(const ShimConfig& c) {
  ExecArgs args;
  for (const std::string& a : c.argv) args.argv.push_back(const_cast<char*>(a.c_str()));
  args.argv.push_back(nullptr);
  for (const std::string& e : c.env) args.envp.push_back(const_cast<char*>(e.c_str()));
  args.envp.push_back(nullptr);
  return args;
}

void exec_prepared(const ShimConfig& c, ExecArgs& args, int sync_fd, int tty_slave) {
  if (tty_slave >= 0) {
    // A session of its own with the zone's terminal as controlling tty.
    setsid();
    ioctl(tty_slave, TIOCSCTTY, 0);
    for (int fd = 0; fd < 3; fd++) dup2(tty_slave, fd);
    if (tty_slave > 2) close(tty_slave);
  }
  sync_fd = place_preserved_fds(c, sync_fd);
  // execvp searches the PATH of `environ`: make it the zone's (in a vfork
  // child that is the parent's too, which, as the zone's init, never reads it).
  environ = args.envp.data();
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  execvp(args.argv[0], args.argv.data());
  int err = errno;
  send_control(sync_fd, ControlType::kExecFailed, err, 0, c.argv[0]);
  _exit(err == ENOENT ? 127 : 126);
}

void exec_binary(const ShimConfig& c, int sync_fd, int tty_slave) {
  ExecArgs args = exec_args(c);
  exec_prepared(c, args, sync_fd, tty_slave);
}

}  // namespace lxz
