#include "keeper.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "../common/fd.h"
#include "../common/unix_socket.h"
#include "join_process.h"
#include "keeper_server.h"
#include "log_file.h"
#include "namespace_holder.h"
#include "shim_log.h"
#include "stdio_relay.h"
#include "tty_relay.h"
#include "uts_sysctl_handover.h"
#include "proc_write.h"
#include "time_namespace.h"
#include "zone_namespaces.h"
#include "zone_process.h"
#include <vector>

namespace lxz {
namespace {

constexpr int kForwardedSignals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};
// A zone's init is the shim's own process until the zone is built: until
// then its namespaces are half made (a rootless zone's user namespace exists
// from the start, its mount tree does not), so nothing may join them. Once
// built it is the reaper, renamed lxzone-init, or the binary itself: the name
// only ever moves forward, so a check now holds for the join that follows.
Status check_zone_built(pid_t init, int init_pidfd) {
  std::string path = "/proc/" + std::to_string(init) + "/comm";
  char comm[32] = {};
  Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  ssize_t n = fd.valid() ? read(fd.get(), comm, sizeof comm - 1) : -1;
  // Read through the pid: the pidfd says it was still the same process after.
  if (n <= 0 || syscall(SYS_pidfd_send_signal, init_pidfd, 0, nullptr, 0) < 0)
    return Error{ESRCH, "the zone's init (pid " + std::to_string(init) + ") is not running"};
  if (std::strcmp(comm, "lxzone-shim\n") == 0)
    return Error{EAGAIN, "the zone (init pid " + std::to_string(init) + ") is still being built; join it once it runs"};
  return {};
}

// Rootless: the keeper itself enters a user namespace whose only id, root,
// is the caller. There it holds what a time namespace needs, and the zone is
// cloned into both.
Status enter_caller_user_namespace() {
  std::string uid = std::to_string(geteuid()), gid = std::to_string(getegid());
  if (unshare(CLONE_NEWUSER) < 0) return sys_error("unshare user namespace");
  return map_self_as_root(uid, gid);
}

uint64_t now_ms() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + static_cast<uint64_t>(ts.tv_nsec) / 1000000;
}

// A listening socket only root can connect to: a restarted supervisor comes
// back through it for the listener fd.
Status listen_for_reattach(const std::string& path, Fd* out) {
  Fd sock(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!sock.valid()) return sys_error("socket for re-attach");
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  unlink(path.c_str());
  mode_t old = umask(0177);
  int r = bind(sock.get(), reinterpret_cast<struct sockaddr*>(&addr), sizeof addr);
  umask(old);
  if (r < 0) return sys_error("bind " + path);
  if (listen(sock.get(), 4) < 0) return sys_error("listen " + path);
  *out = std::move(sock);
  return {};
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 125;
}

class Keeper {
 public:
  explicit Keeper(const KeeperArgs& args) : c_(*args.config), filter_(*args.filter), control_(args.control_fd) {}
  ~Keeper() {
    if (reattach_.valid()) unlink(c_.reattach_socket.c_str());
  }

  int run() {
    if (c_.die_with_parent) {
      prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
      if (getppid() == 1) return 125;  // our caller is already gone
    }
    Status s = open_stdio();
    if (s.ok() && KeeperServer::configured(c_)) {
      s = server_.init(c_);
      can_serve_ = s.ok();
    }
    if (s.ok() && !c_.reattach_socket.empty()) s = listen_for_reattach(c_.reattach_socket, &reattach_);
    // exit-after-parent: the launcher's process handle, opened while it is our parent.
    if (s.ok() && c_.exit_after_parent) {
      launcher_.reset(static_cast<int>(syscall(SYS_pidfd_open, getppid(), 0)));
      if (!launcher_.valid()) s = sys_error("pidfd of the launcher");
    }
    if (s.ok()) s = start_zone();
    if (!s.ok()) return fail(s.error());
    int code = supervise();
    release_zone_namespaces();  // the zone is gone
    holder_.reap();  // long gone by now
    if (launcher_.valid()) await_launcher_gone();
    return code;
  }

 private:
  // lxzone-runc exec --detach: the launcher (a Node process, which reaps its
  // children) hands us to whoever reaps orphans (containerd's shim, a
  // subreaper) by exiting. A zone process that ended before that would be
  // reaped by the launcher, and the shim would never learn its status: we
  // exit only once the launcher is gone, so our parent then is the reaper.
  // Bounded: a launcher that never exits reaps us itself after all.
  void await_launcher_gone() {
    struct pollfd p = {launcher_.get(), POLLIN, 0};
    while (poll(&p, 1, 60000) < 0 && errno == EINTR) {
    }
  }

  // Log files first: from here on what the keeper reports goes there too.
  Status open_stdio() {
    const StdioConfig& io = c_.stdio;
    if (!io.log_stdout.empty()) LXZ_TRY(out_log_.open(io.log_stdout, io.log_file_max, STDOUT_FILENO));
    if (!io.log_stderr.empty()) LXZ_TRY(err_log_.open(io.log_stderr, io.log_file_max, STDERR_FILENO));
    if (!io.relay) return {};
    // A zone that closes its end must not kill us (EPIPE instead); the
    // zone's processes get the default back (child_side below).
    signal(SIGPIPE, SIG_IGN);
    return relay_.open(!c_.tty, out_log_.valid() ? &out_log_ : nullptr, err_log_.valid() ? &err_log_ : nullptr);
  }

  int fail(const Error& e) {
    log_error(e.message());
    send_control(control_.get(), ControlType::kSetupFailed, e.err, 0, e.message());
    kill_zone();
    uts_sysctl_.stop();
    holder_.reap();
    return 125;
  }

  void kill_zone() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    int status;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }

  Status start_zone() {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) return sys_error("socketpair");
    sync_.reset(pair[0]);
    Fd child_end(pair[1]);

    // Signals arrive through a signalfd; the zone process restores its mask.
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    for (int sig : kForwardedSignals) sigaddset(&mask, sig);
    if (sigprocmask(SIG_BLOCK, &mask, nullptr) < 0) return sys_error("sigprocmask");
    signals_.reset(signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!signals_.valid()) return sys_error("signalfd");

    Fd zone_pidfd;
    ZoneNamespaces zone_ns;
    if (c_.join_pid) {
      zone_pidfd.reset(static_cast<int>(syscall(SYS_pidfd_open, c_.join_pid, 0)));
      if (!zone_pidfd.valid()) return Error{errno, "the zone's init (pid " + std::to_string(c_.join_pid) + ") is not running"};
      LXZ_TRY(check_zone_built(c_.join_pid, zone_pidfd.get()));
    } else {
      if (c_.rootless) LXZ_TRY(enter_caller_user_namespace());
      // The holder first: it shares the keeper's memory (CLONE_VM), which
      // Linux before 6.x refuses (EINVAL) once a time namespace is pending
      // for the keeper's children. It holds no time namespace of the zone's.
      Status made = make_zone_namespaces(c_, &zone_ns);
      holder_.adopt(zone_ns.holder);
      LXZ_TRY(made);
      LXZ_TRY(new_time_namespace_for_children());
      uts_sysctl_.prepare(c_, zone_ns);  // their mounts are the zone process's to place
      // Before the zone process is cloned (it joins the same ones anyway).
      // Network, IPC and UTS: what a pod's next container joins by the
      // path /proc/PID/ns/* of the pid lxzone-runc reports, this keeper's.
      if (c_.keeper_in_zone_netns) {
        if (setns(zone_ns.net.get(), CLONE_NEWNET) < 0) return sys_error("move the keeper into the zone's network namespace");
        if (setns(zone_ns.ipc.get(), CLONE_NEWIPC) < 0) return sys_error("move the keeper into the zone's IPC namespace");
        if (setns(zone_ns.uts.get(), CLONE_NEWUTS) < 0) return sys_error("move the keeper into the zone's UTS namespace");
      }
    }
    struct clone_args ca = {};
    // A new zone gets new pid and mount namespaces here (its others come from
    // zone_ns); a joining process takes the zone's in the child.
    if (!c_.join_pid) ca.flags = CLONE_NEWPID | CLONE_NEWNS;
    ca.exit_signal = SIGCHLD;
    long pid = syscall(SYS_clone3, &ca, sizeof ca);
    if (pid < 0) return sys_error("clone3 (new pid and mount namespaces)");
    if (pid == 0) {
      if (relay_.active()) relay_.child_side();
      signal(SIGPIPE, SIG_DFL);
      sync_.reset();
      signals_.reset();
      control_.reset();
      reattach_.reset();
      if (c_.join_pid) {
        JoinProcessArgs jargs{&c_, &filter_, child_end.release(), zone_pidfd.release()};
        join_process_main(jargs);
      }
      ZoneProcessArgs zargs{&c_, &filter_, child_end.release(), &zone_ns};
      zone_process_main(zargs);
    }
    pid_ = static_cast<pid_t>(pid);
    if (!c_.join_pid) hold_build_namespace();
    uts_sysctl_.release_mounts();
    relay_.parent_side();
    // --preserve-fds: the zone's binary has them now; a keeper holding a
    // pipe's end would keep its reader from ever seeing end-of-file.
    for (int fd : c_.preserve_fds) close(fd);
    child_end.reset();
    zone_pidfd.reset();
    zone_ns = ZoneNamespaces();
    // The supervisor plugs the zone's network into the network namespace of
    // the pid it is told: only once the zone process is in its own. Without
    // `hold` nothing acts on the zone before it runs, so the zone process
    // sends no such report (a round trip to it on every start).
    if (!c_.join_pid && c_.hold) LXZ_TRY(await_namespaces_joined());

    // For an exec, the zone's init is what the supervisor acts on (reboot);
    // b carries the joining process.
    LXZ_TRY(send_control(control_.get(), ControlType::kCreated, c_.join_pid ? c_.join_pid : pid_, pid_));
    for (const std::string& procs : c_.cgroup_procs) LXZ_TRY(write_file(procs, std::to_string(pid_)));
    if (c_.hold) LXZ_TRY(await_continue());
    LXZ_TRY(send_control(sync_.get(), ControlType::kContinue));
    return follow_setup();
  }

  Status await_namespaces_joined() {
    ControlMessage msg;
    int r = recv_control(sync_.get(), &msg);
    if (msg.fd >= 0) close(msg.fd);
    if (r < 0) return sys_error("read from the zone process");
    if (r == 0) return Error{ESRCH, "the zone process died before joining its namespaces"};
    if (msg.header.type == ControlType::kSetupFailed) return Error{msg.header.a, msg.text, true};
    if (msg.header.type != ControlType::kNamespacesJoined) return Error{EPROTO, "unexpected message from the zone process"};
    return {};
  }

  // The supervisor places the zone (cgroups, network) and says go.
  Status await_continue() {
    ControlMessage msg;
    int r = recv_control(control_.get(), &msg);
    if (msg.fd >= 0) close(msg.fd);
    if (r < 0) return sys_error("read control socket");
    if (r == 0) return Error{EPIPE, "supervisor went away before the zone started"};
    if (msg.header.type == ControlType::kAbort) return Error{ECANCELED, "zone start aborted by the supervisor"};
    if (msg.header.type != ControlType::kContinue) return Error{EPROTO, "unexpected control message"};
    return {};
  }

  // Messages from the zone process until the binary is exec'd (the socket
  // closes on exec) or setup fails.
  Status follow_setup() {
    for (;;) {
      ControlMessage msg;
      int r = recv_control(sync_.get(), &msg);
      if (r < 0) return sys_error("read from the zone process");
      if (r == 0) break;  // exec'd (or died: the exit is reported by supervise())
      switch (msg.header.type) {
        case ControlType::kFilterComing:
          if (!c_.join_pid) hold_zone_namespace();
          LXZ_TRY(take_listener(msg.header.a));
          if (can_serve_) server_.note_init(zone_init());
          LXZ_TRY(send_control(control_.get(), ControlType::kReady, zone_init(), 0, {}, listener_.get()));
          LXZ_TRY(send_control(sync_.get(), ControlType::kListenerTaken));
          break;
        case ControlType::kTtyMaster:
          if (msg.fd < 0) return Error{EPROTO, "zone process sent no terminal"};
          if (c_.system) {
            // A system zone's console (/dev/console): output only, copied to
            // the zone's log (within its cap), never to a caller.
            tty_.start_console(msg.fd, out_log_.valid() ? &out_log_ : nullptr);
          } else {
            // A daemon zone's terminal (Docker's -t) writes into the zone's
            // log like its pipes would; `lxzone run -t` has no log: the caller's terminal.
            tty_.start(msg.fd, out_log_.valid() ? &out_log_ : nullptr);
          }
          break;
        case ControlType::kSetupFailed:
          return Error{msg.header.a, msg.text, true};
        case ControlType::kExecFailed:
          exec_failed_ = true;
          send_control(control_.get(), ControlType::kExecFailed, msg.header.a, 0, msg.text);
          break;
        default:
          if (msg.fd >= 0) close(msg.fd);
          return Error{EPROTO, "unexpected message from the zone process"};
      }
    }
    sync_.reset();
    if (!exec_failed_ && listener_.valid()) send_control(control_.get(), ControlType::kStarted, zone_init());
    build_ns_.reset();  // torn down here, while the binary runs
    holder_.reap_if_gone();
    return {};
  }

  // The last reference to a mount namespace tears it down, and the kernel
  // waits for an RCU grace period in that (milliseconds, tens of them on a
  // loaded host). A zone has three: the one its zone process builds the
  // tree in (a copy of ours, cloned with it), left behind when the zone
  // process enters the zone's user namespace with a mount namespace of its
  // own (enter_zone_user_namespace); that one, the zone's, left by its last
  // process at exit; and the UTS sysctl server's. Each was torn down where
  // someone waits: the zone process on every start, the zone's exit before
  // we learn of it, then the server's while we wait for it to end. The
  // keeper holds the first two instead (a namespace of the host's user
  // namespace and the zone's own, as fds of the keeper's: nothing of the
  // zone reaches them): the building one goes once the zone runs, the zone's
  // together with the server's, the two grace periods at once.
  void hold_build_namespace() { build_ns_.reset(open_mount_namespace()); }
  void hold_zone_namespace() { zone_ns_.reset(open_mount_namespace()); }
  int open_mount_namespace() const {
    std::string path = "/proc/" + std::to_string(pid_) + "/ns/mnt";
    return open(path.c_str(), O_RDONLY | O_CLOEXEC);  // an optimisation only: a failure costs the wait
  }
  // The zone's exit, to the supervisor, with the zone's mount namespace:
  // its teardown (the zone's tree unmounted, an RCU grace period) is then
  // the supervisor's, after this keeper has exited (it closes the fd once
  // our control socket has closed), not in our exit, which the launcher
  // waits for (issue 18). The message in flight holds the namespace while
  // we drop our reference at once, so ours is never the last. The
  // supervisor already holds the zone's listener; a namespace none of the
  // zone's processes are in any more gives it nothing more.
  void hand_over_exit(int code, int status) {
    if (!send_control(control_.get(), ControlType::kExited, code, status, {}, zone_ns_.get()).ok()) return;
    zone_ns_.reset();
  }
  void release_zone_namespaces() {
    uts_sysctl_.kill();
    zone_ns_.reset();
    uts_sysctl_.stop();
  }

  int supervise() {
    std::vector<struct pollfd> fds;
    for (;;) {
      fds.assign({{signals_.get(), POLLIN, 0},
                  {control_.get(), POLLIN, 0},
                  {reattach_.get(), POLLIN, 0},
                  {tty_.master(), POLLIN, 0},
                  {tty_.input(), POLLIN, 0},
                  {server_.serving() ? server_.listener() : -1, POLLIN, 0}});
      uts_sysctl_.add_pollfds(fds);
      relay_.add_pollfds(fds);
      // Not left a zombie for the zone's life (a host pid each): looked for
      // again shortly, until reaped.
      int timeout = holder_.poll_timeout_ms();
      if (!control_open_ && orphaned_since_ms_) {
        uint64_t deadline = orphaned_since_ms_ + uint64_t{c_.reattach_timeout} * 1000, now = now_ms();
        if (now >= deadline) {
          log_error("no supervisor came back in time; stopping the zone");
          orphaned_since_ms_ = 0;
          if (pid_ > 0) kill(pid_, SIGKILL);
        } else {
          timeout = static_cast<int>(deadline - now);
        }
      }
      int n = poll(fds.data(), fds.size(), timeout);
      if (n < 0) {
        if (errno == EINTR) continue;
        log_error(std::string("poll: ") + std::strerror(errno));
        kill_zone();
        return 125;
      }
      uts_sysctl_.handle(fds);
      if (fds[3].revents & (POLLIN | POLLHUP | POLLERR)) tty_.relay_output();
      if (fds[4].revents & (POLLIN | POLLHUP | POLLERR)) tty_.relay_input();
      relay_.handle(fds);
      if (fds[5].revents & POLLIN) {
        if (!server_.serve_one()) server_.stop();
      } else if (fds[5].revents) {
        server_.stop();  // hung up with nothing pending: every process of the zone is gone
      }
      if (fds[0].revents & POLLIN) {
        int code = -1;
        if (handle_signals(&code)) {
          tty_.relay_output();  // what the zone wrote last
          tty_.restore_terminal();
          relay_.drain();
          return code;
        }
      }
      if (control_open_ && (fds[1].revents & (POLLIN | POLLHUP | POLLERR))) handle_control();
      if (fds[2].revents & POLLIN) accept_supervisor();
    }
  }

  pid_t zone_init() const { return c_.join_pid ? c_.join_pid : pid_; }

  // Takes the zone process's listener (fd `number` in it) once its filter is
  // in: polled, since the process tells us just before installing it.
  Status take_listener(int number) {
    Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid_, 0)));
    if (!pidfd.valid()) return sys_error("pidfd_open of the zone process");
    uint64_t deadline = now_ms() + 10000;
    for (;;) {
      Fd fd(static_cast<int>(syscall(SYS_pidfd_getfd, pidfd.get(), number, 0)));
      if (fd.valid()) {
        char link[64] = {};
        std::string self = "/proc/self/fd/" + std::to_string(fd.get());
        ssize_t n = readlink(self.c_str(), link, sizeof link - 1);
        if (n > 0 && std::strcmp(link, "anon_inode:seccomp notify") == 0) {
          listener_ = std::move(fd);
          return {};
        }
      } else if (errno == ESRCH) {
        // It died: most likely the kernel refused the filter, and the zone
        // process said why on the sync socket before exiting.
        ControlMessage why;
        struct pollfd p = {sync_.get(), POLLIN, 0};
        if (poll(&p, 1, 100) > 0 && recv_control(sync_.get(), &why) > 0 && why.header.type == ControlType::kSetupFailed) {
          if (why.fd >= 0) close(why.fd);
          return Error{why.header.a, why.text, true};
        }
        return Error{ESRCH, "the zone process died while installing its filter"};
      }
      if (now_ms() > deadline) return Error{ETIMEDOUT, "the zone process installed no filter"};
      // The kernel takes a few hundred µs to load the filter: poll finely, it
      // is on every zone's start path (and over in well under a millisecond).
      struct timespec ts = {0, 40 * 1000};
      nanosleep(&ts, nullptr);
    }
  }

  // A supervisor (re)connects: only root or the keeper's own user (a rootless
  // daemon), and only one at a time. One that comes while another still
  // serves waits its turn: a supervisor handing a zone over (an exec's
  // caller to the daemon) may not have closed its end yet when the next one
  // connects.
  void accept_supervisor() {
    Fd conn(accept4(reattach_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!conn.valid()) return;
    struct ucred cred = {};
    socklen_t len = sizeof cred;
    if (getsockopt(conn.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) return;
    if (cred.uid != 0 && cred.uid != geteuid()) return;
    if (!listener_.valid() || pid_ <= 0) return;
    if (control_open_) {
      if (!next_supervisor_.valid()) next_supervisor_ = std::move(conn);
      return;
    }
    serve_supervisor(std::move(conn));
  }

  void serve_supervisor(Fd conn) {
    server_.stop();  // the supervisor answers from now on
    control_ = std::move(conn);
    control_open_ = true;
    orphaned_since_ms_ = 0;
    send_control(control_.get(), ControlType::kReady, zone_init(), 0, {}, listener_.get());
    send_control(control_.get(), ControlType::kStarted, zone_init());
  }

  // Returns true when the zone has exited, with its code.
  bool handle_signals(int* code) {
    struct signalfd_siginfo si;
    while (read(signals_.get(), &si, sizeof si) == sizeof si) {
      if (si.ssi_signo != SIGCHLD) {
        // A terminal's SIGINT/SIGQUIT (SI_KERNEL) already reached the zone's
        // processes in our process group; relay only signals sent to us.
        if (si.ssi_signo == SIGWINCH && tty_.active()) {
          tty_.copy_window_size();
          continue;
        }
        if (pid_ > 0 && si.ssi_code != SI_KERNEL) kill(pid_, static_cast<int>(si.ssi_signo));
        continue;
      }
      int status;
      pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        *code = exit_code_of(status);
        pid_ = -1;
        if (control_open_) hand_over_exit(*code, status);
        return true;
      }
    }
    return false;
  }

  void handle_control() {
    ControlMessage msg;
    int r = recv_control(control_.get(), &msg);
    if (r <= 0) {
      // The supervisor is gone. Fail closed: without it, notified syscalls
      // would wait forever, so the zone stops.
      control_open_ = false;
      control_.reset();
      if (next_supervisor_.valid()) {
        serve_supervisor(std::move(next_supervisor_));
        return;
      }
      if (reattach_.valid() && can_serve_ && listener_.valid()) {
        // We answer them ourselves until a supervisor comes back: the zone
        // never stops because its daemon did.
        server_.start(listener_.get(), zone_init());
        return;
      }
      if (reattach_.valid()) {
        // Notified syscalls wait (we hold the listener) for a bounded time.
        orphaned_since_ms_ = now_ms();
        return;
      }
      log_error("supervisor went away; stopping the zone");
      if (pid_ > 0) kill(pid_, SIGKILL);
      return;
    }
    if (msg.fd >= 0) close(msg.fd);
    if (msg.header.type == ControlType::kSignal && pid_ > 0) kill(pid_, msg.header.a);
    if (msg.header.type == ControlType::kAbort && pid_ > 0) kill(pid_, SIGKILL);
  }

  const ShimConfig& c_;
  const std::string& filter_;
  Fd control_;
  Fd launcher_;  // exit-after-parent: the launcher's pidfd
  Fd reattach_;
  Fd next_supervisor_;  // connected while another supervisor still served
  TtyRelay tty_;
  StdioRelay relay_;
  LogFile out_log_, err_log_;
  KeeperServer server_;
  UtsSysctlHandover uts_sysctl_;  // /proc/sys/kernel/hostname and domainname
  bool can_serve_ = false;
  uint64_t orphaned_since_ms_ = 0;
  bool control_open_ = true;
  bool exec_failed_ = false;
  pid_t pid_ = -1;
  NamespaceHolder holder_;  // reaped late (namespace_holder.h)
  Fd sync_;
  Fd signals_;
  Fd listener_;
  // Mount namespaces held so that their teardown waits here (hold_build_namespace).
  Fd build_ns_;  // the zone process's building one, until the zone runs
  Fd zone_ns_;   // the zone's own, until the zone has ended
};

}  // namespace

int run_keeper(const KeeperArgs& args) {
  Keeper keeper(args);
  return keeper.run();
}

}  // namespace lxz
