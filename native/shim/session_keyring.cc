#include "session_keyring.h"

#include <linux/keyctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cerrno>

namespace lxz {

Status join_fresh_session_keyring() {
  if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, nullptr) >= 0) return {};
  if (errno == ENOSYS) return {};
  return sys_error("join a fresh session keyring");
}

}  // namespace lxz
