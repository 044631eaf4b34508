#include "notify_probe.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cerrno>
#include <cstdio>
#include <cstring>

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

namespace lxz {

int probe_notification_mode() {
  // The filter allows everything: the probe only needs a listener to ask. It
  // stays on this process, which exits right after.
  struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
  struct sock_fprog prog = {1, &allow};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
    dprintf(2, "lxzone-shim: no_new_privs: %s\n", strerror(errno));
    return 125;
  }
  long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
  if (fd < 0) {
    dprintf(2, "lxzone-shim: seccomp listener: %s\n", strerror(errno));
    return 125;
  }
  unsigned long long flags = SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP;
  bool sync = ioctl(static_cast<int>(fd), SECCOMP_IOCTL_NOTIF_SET_FLAGS, flags) == 0;
  // EINVAL: the ioctl or the flag is unknown to this kernel (before 6.6).
  if (!sync && errno != EINVAL) {
    dprintf(2, "lxzone-shim: SECCOMP_IOCTL_NOTIF_SET_FLAGS: %s\n", strerror(errno));
    return 125;
  }
  std::printf("%s\n", sync ? "sync-wakeup" : "plain");
  return 0;
}

}  // namespace lxz
