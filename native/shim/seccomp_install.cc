#include "seccomp_install.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cerrno>

#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

namespace lxz {

constexpr size_t kMaxInstructions = 4096;  // BPF_MAXINSNS

Status check_filter(const std::string& filter) {
  if (filter.empty()) return Error{EINVAL, "seccomp filter is empty"};
  if (filter.size() % sizeof(struct sock_filter) != 0)
    return Error{EINVAL, "seccomp filter length " + std::to_string(filter.size()) + " is not a multiple of 8"};
  if (filter.size() / sizeof(struct sock_filter) > kMaxInstructions)
    return Error{E2BIG, "seccomp filter has more than 4096 instructions"};
  return {};
}

Status install_filter(const std::string& filter, int* listener_fd) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return sys_error("no_new_privs");
  struct sock_fprog prog = {};
  prog.len = static_cast<unsigned short>(filter.size() / sizeof(struct sock_filter));
  prog.filter = reinterpret_cast<struct sock_filter*>(const_cast<char*>(filter.data()));
  // Killable waits: a zone process blocked on a notification can still be
  // SIGKILLed once the supervisor has read it (Linux >= 5.19).
  long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                    SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, &prog);
  if (fd < 0 && errno == EINVAL)
    fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
  if (fd < 0) return sys_error("seccomp(SET_MODE_FILTER)");
  *listener_fd = static_cast<int>(fd);
  return {};
}

}  // namespace lxz
