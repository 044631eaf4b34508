#include "zone_renice.h"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cerrno>

namespace lxz {
namespace {

// Exit codes of the helpers: an errno (< 200), or this.
constexpr int kExitNotInZone = 200;

// Path building without stdio: between clone and exit only raw calls.
char* append(char* out, const char* text) {
  while (*text) *out++ = *text++;
  *out = 0;
  return out;
}

char* append_number(char* out, long v) {
  char digits[24];
  int n = 0;
  do digits[n++] = static_cast<char>('0' + v % 10); while ((v /= 10) > 0);
  while (n) *out++ = digits[--n];
  *out = 0;
  return out;
}

// The host pid behind a pidfd: its fdinfo, read through the host's /proc
// (whose pid namespace is the one the "Pid:" field is given in).
long host_pid_of(int pidfd) {
  char path[64];
  append_number(append(path, "/proc/self/fdinfo/"), pidfd);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[512];
  ssize_t len = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (len <= 0) return -1;
  buf[len] = 0;
  for (char* at = buf; *at; at++) {
    if ((at == buf || at[-1] == '\n') && at[0] == 'P' && at[1] == 'i' && at[2] == 'd' && at[3] == ':') {
      long pid = 0;
      char* d = at + 4;
      while (*d == ' ' || *d == '\t') d++;
      if (*d < '0' || *d > '9') return -1;
      while (*d >= '0' && *d <= '9') pid = pid * 10 + (*d++ - '0');
      return pid;
    }
  }
  return -1;
}

// Whether the user namespace `ns` (an fd, consumed) is `zone` or nested in it.
bool within(int ns, const struct stat& zone) {
  for (int depth = 0; ns >= 0 && depth < 40; depth++) {
    struct stat st;
    bool same = fstat(ns, &st) == 0 && st.st_ino == zone.st_ino && st.st_dev == zone.st_dev;
    if (same) {
      close(ns);
      return true;
    }
    int parent = ioctl(ns, NS_GET_PARENT);  // EPERM past the initial namespace
    close(ns);
    ns = parent;
  }
  if (ns >= 0) close(ns);
  return false;
}

// Born in the caller's pid namespace: `who` means there what it meant to the caller.
[[noreturn]] void renice_main(const struct stat& zone, int who, int nice) {
  int result = 0;
  // A thread's id names it too (PIDFD_THREAD, Linux 6.9; a leader's works without).
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, who, O_EXCL));
  if (pidfd < 0) pidfd = static_cast<int>(syscall(SYS_pidfd_open, who, 0));
  if (who <= 0 || pidfd < 0) result = ESRCH;
  long host = result ? -1 : host_pid_of(pidfd);
  if (!result && host <= 0) result = ESRCH;
  if (!result) {
    char path[64];
    append(append_number(append(path, "/proc/"), host), "/ns/user");
    int ns = open(path, O_RDONLY | O_CLOEXEC);
    // The pidfd still names the process: the namespace read was its.
    if (ns < 0 || syscall(SYS_pidfd_send_signal, pidfd, 0, nullptr, 0) < 0) {
      if (ns >= 0) close(ns);
      result = ESRCH;
    } else if (!within(ns, zone)) {
      result = kExitNotInZone;
    }
  }
  // By number, in this pid namespace: the process the pidfd holds, unless it
  // was reaped in the meantime (checked after) and its number taken again by
  // another process of the same namespace.
  if (!result && setpriority(PRIO_PROCESS, static_cast<id_t>(who), nice) < 0) result = errno;
  if (!result && syscall(SYS_pidfd_send_signal, pidfd, 0, nullptr, 0) < 0) result = ESRCH;
  syscall(SYS_exit_group, result);
  __builtin_unreachable();
}

int wait_exit(long pid) {
  int status = 0;
  while (waitpid(static_cast<pid_t>(pid), &status, __WALL) < 0) {
    if (errno != EINTR) return ECHILD;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : EIO;
}

}  // namespace

int renice_in_zone(int pid_ns, int zone_user_ns, int who, int nice) {
  struct stat zone;
  if (fstat(zone_user_ns, &zone) < 0) return errno;
  struct clone_args ca = {};
  ca.exit_signal = 0;  // reaped here with __WALL; no SIGCHLD for Node's loop
  long helper = syscall(SYS_clone3, &ca, sizeof ca);
  if (helper < 0) return errno;
  if (helper == 0) {
    // setns(CLONE_NEWPID) changes the namespace of this one's children only.
    int err = setns(pid_ns, CLONE_NEWPID) < 0 ? errno : 0;
    if (!err) {
      struct clone_args inner = {};
      inner.exit_signal = SIGCHLD;
      long child = syscall(SYS_clone3, &inner, sizeof inner);
      if (child == 0) renice_main(zone, who, nice);
      err = child < 0 ? errno : wait_exit(child);
    }
    syscall(SYS_exit_group, err);
  }
  int code = wait_exit(helper);
  return code == kExitNotInZone ? kReniceNotInZone : code;
}

}  // namespace lxz
