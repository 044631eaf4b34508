#include "node_names.h"

#include <string.h>

namespace lxz::front {
namespace {

// Numbers glibc names that Node's os.constants.errno lacks (Node 20, x86_64 and aarch64).
bool node_lacks(int err) {
  static const int lacking[] = {15, 41, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 64, 65, 66, 68,
                                69, 70, 73, 76, 77, 78, 79, 80, 81, 82, 83, 85, 86, 87, 94, 96, 108, 109, 112, 117, 118,
                                119, 120, 121, 123, 124, 126, 127, 128, 129, 130, 131, 132, 133};
  for (int n : lacking)
    if (n == err) return true;
  return false;
}

}  // namespace

std::string errno_name(int err) {
  // Node's map keeps the last name of a number: EWOULDBLOCK, not EAGAIN.
  if (err == EWOULDBLOCK) return "EWOULDBLOCK";
  const char* name = err > 0 && !node_lacks(err) ? strerrorname_np(err) : nullptr;
  return name != nullptr ? name : "E" + std::to_string(err);
}

std::string signal_name(int sig) {
  // os.constants.signals by number, the last name of a number kept (SIGIOT, SIGPOLL).
  static const char* const names[] = {nullptr,   "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",  "SIGTRAP", "SIGIOT",
                                      "SIGBUS",  "SIGFPE",  "SIGKILL",   "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE",
                                      "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP",
                                      "SIGTTIN", "SIGTTOU", "SIGURG",    "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF",
                                      "SIGWINCH", "SIGPOLL", "SIGPWR",   "SIGSYS"};
  if (sig > 0 && sig < static_cast<int>(sizeof names / sizeof names[0])) return names[sig];
  return "SIGKILL";
}

}  // namespace lxz::front
