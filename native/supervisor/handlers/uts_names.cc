#include "uts_names.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "../../common/fd.h"
#include "../tracee_memory.h"

namespace lxz {

bool read_uts_names(int listener, uint64_t id, pid_t pid, std::string* nodename, std::string* domainname) {
  // This thread's own UTS namespace, to come back to (a thread may be in a
  // UTS namespace of its own: setns(CLONE_NEWUTS) is per thread).
  thread_local Fd own(open("/proc/thread-self/ns/uts", O_RDONLY | O_CLOEXEC));
  if (!own.valid()) return false;
  Fd target(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  // The pidfd is of the caller only if the call is still pending after it was opened.
  if (!target.valid() || !notification_valid(listener, id)) return false;
  if (setns(target.get(), CLONE_NEWUTS) < 0) return false;
  struct utsname u;
  int r = uname(&u);
  if (setns(own.get(), CLONE_NEWUTS) < 0) {
    // Stuck in the zone's namespace: only this thread's own uname would be
    // wrong, and nothing here uses it; later calls fail over to the
    // configured name rather than read a namespace that is not the caller's.
    own.reset();
    return false;
  }
  if (r < 0) return false;
  *nodename = u.nodename;
  *domainname = u.domainname;
  return true;
}

}  // namespace lxz
