#include "join_process.h"

#include <sched.h>
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>

#include "process_setup.h"

namespace lxz {

void join_process_main(const JoinProcessArgs& args) {
  const ShimConfig& c = *args.config;
  const int sync = args.sync_fd;
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  setsid();  // never the caller's controlling terminal
  await(sync, ControlType::kContinue);  // placed in the zone's cgroups
  // As host root, before the zone's user namespace: the same limits as the
  // zone's first process (its RLIMIT_NICE and RLIMIT_MEMLOCK, zone-rlimits.ts).
  check(sync, apply_rlimits(c));

  // All of the zone's namespaces at once (Linux >= 5.8); the user namespace
  // first, so the rest are joined with the zone's privileges, not the host's.
  // Rootless too: the zone's user namespace is ours (same owner), and its
  // other namespaces can only be joined from inside it.
  // The time namespace too: the zone's own boot time (time_namespace.h).
  int flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP |
              CLONE_NEWTIME;
  if (setns(args.zone_pidfd, flags) < 0) fail(sync, sys_error("join the zone's namespaces"));
  close(args.zone_pidfd);
  if (chdir("/") < 0) fail(sync, sys_error("chdir /"));

  int tty_slave = enter_zone_and_filter(c, *args.filter, sync);

  // Only children enter the zone's pid namespace: the binary runs as one,
  // and this process (outside it, like docker exec's) waits for it. Signals
  // are blocked first so that none (SIGCHLD above all) is lost.
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, nullptr);
  // vfork, as a zone's init starts its binary (zone_process.cc says why).
  ExecArgs exec = exec_args(c);
  pid_t child = c.preserve_fds.empty() ? vfork() : fork();
  if (child < 0) fail(sync, sys_error("fork into the zone"));
  if (child == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    exec_prepared(c, exec, sync, tty_slave);
  }
  close(sync);
  if (tty_slave >= 0) close(tty_slave);
  // Relay the signals the keeper forwards to us.
  for (;;) {
    siginfo_t si;
    int sig = sigwaitinfo(&all, &si);
    if (sig < 0) continue;
    if (sig != SIGCHLD) {
      kill(child, sig);
      continue;
    }
    int status;
    pid_t r = waitpid(child, &status, WNOHANG);
    if (r != child) continue;
    if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
    _exit(128 + WTERMSIG(status));
  }
}

}  // namespace lxz
