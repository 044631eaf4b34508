#include "uts_names.h"

#include <sched.h>
#include <sys/utsname.h>
#include <cerrno>
#include <cstring>

#include "../tracee_handles.h"

namespace lxz {

// Two syscalls on the hot path (issue 18): setns into the caller's UTS
// namespace through its cached pidfd (tracee_handles.h), then uname(2). The
// thread stays there rather than paying a setns back: nothing on a supervisor
// thread or a serving keeper's loop reads its own UTS names (the host's uname
// is read once at attach, on the JavaScript thread), and the next call joins
// its own caller's namespace anyway. The names are read at each call, never
// cached: a zone's root may change them behind our back (sethostname(2), or a
// write to /proc/sys/kernel/hostname, which no filter sees), and a process may
// sit in a UTS namespace of its own (unshare -u).
bool read_uts_names(int listener, uint64_t id, pid_t pid, char* nodename, char* domainname, bool* alive) {
  for (int attempt = 0; attempt < 2; attempt++) {
    int target = tracee_pidfd(listener, id, pid);
    if (target < 0) return false;
    if (setns(target, CLONE_NEWUTS) == 0) break;
    if (errno != ESRCH || attempt == 1) return false;
    // The cached thread is dead: the caller is a newer thread with its id.
    forget_tracee(pid);
  }
  // setns succeeded on a pidfd of the caller: it was alive then (its pid its own).
  *alive = true;
  struct utsname u;
  if (uname(&u) < 0) return false;
  static_assert(sizeof u.nodename == kUtsField && sizeof u.domainname == kUtsField, "the kernel's field size");
  std::memcpy(nodename, u.nodename, kUtsField);
  std::memcpy(domainname, u.domainname, kUtsField);
  return true;
}

}  // namespace lxz
