#include "init_reaper.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>
#include <initializer_list>

namespace lxz {
namespace {

volatile pid_t g_child = 0;

void forward(int sig) {
  if (g_child > 0) kill(g_child, sig);
}

}  // namespace

void run_init_reaper(pid_t child, bool dumpable) {
  g_child = child;
  // Not dumpable: no zone process may ptrace or write the memory of pid 1
  // (same uid would otherwise be enough) and bend the status it reports.
  // Rootless zones keep it dumpable: an unprivileged `lxzone exec` joins the
  // zone through pid 1, which needs ptrace access to it, and the zone's root
  // is the caller anyway.
  if (!dumpable) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  // pid 1 only receives signals it handles; handle the ones a caller sends.
  struct sigaction sa = {};
  sa.sa_handler = forward;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGALRM, SIGPIPE})
    sigaction(sig, &sa, nullptr);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);

  for (;;) {
    int status = 0;
    pid_t pid = wait(&status);
    if (pid < 0) {
      if (errno == EINTR) continue;
      _exit(125);  // ECHILD: the binary is gone without our noticing; cannot happen
    }
    if (pid != child) continue;  // an orphan, reaped
    if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
    _exit(128 + WTERMSIG(status));
  }
}

}  // namespace lxz
