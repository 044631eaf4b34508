// setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE / SO_RCVBUFFORCE, &val, len) by a
// zone's root (issue 21.2). Natively root sets a buffer past
// net.core.wmem_max/rmem_max with CAP_NET_ADMIN, which Linux asks of the
// host's user namespace here (capable(), not ns_capable()), so no zone holds
// it. The supervisor, which does, sets it on the caller's own socket when:
//
// - the caller holds CAP_NET_ADMIN in the zone's own user namespace (the
//   zone's root; a zone user or a nested namespace's root gets the kernel's
//   EPERM);
// - the zone has a memory cap: socket buffers are charged to the zone's
//   memory cgroup, and the value is clamped to half the cap (Linux doubles
//   it), so a buffer never outgrows the zone. A zone without a cap (its
//   launcher's cgroup) gets the kernel's EPERM.
//
// The socket is the caller's open file, taken with pidfd_getfd while the
// call is pending (a thread racing dup2 on the number can only make it
// another file of the caller's own); the value is read once, into our own
// memory, and never again.
#include <linux/capability.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cerrno>
#include <climits>

#include "../../common/fd.h"
#include "../tracee_memory.h"
#include "handler.h"
#include "zone_caps.h"

namespace lxz {

Reply handle_sockbuf(Call& call) {
  const auto& a = call.req.data.args;
  int level = static_cast<int>(a[1]);
  int optname = static_cast<int>(a[2]);
  // The rule routes only these here; check again.
  if (level != SOL_SOCKET || (optname != SO_SNDBUFFORCE && optname != SO_RCVBUFFORCE)) return Reply::cont();
  uint64_t cap = call.zone.options.memory_limit;
  if (cap == 0 || call.zone.options.memory_usage_file.empty()) return Reply::cont();
  if (!caller_has_zone_capability(call, CAP_NET_ADMIN)) return Reply::cont();
  uint64_t optval = call.is_32bit() ? (a[3] & 0xffffffffull) : a[3];
  int64_t optlen = static_cast<int32_t>(a[4]);
  // Linux's order (do_sock_setsockopt, sk_setsockopt): the fd first, then the length, then the copy.
  pid_t pid = static_cast<pid_t>(call.req.pid);
  Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, pid, 0)));
  if (!pidfd.valid() || !notification_valid(call.listener, call.req.id)) return Reply::error_of(ESRCH);
  Fd sock(static_cast<int>(syscall(SYS_pidfd_getfd, pidfd.get(), static_cast<int>(a[0]), 0)));
  if (!sock.valid()) return Reply::cont();  // a bad fd or not ours to take: the kernel answers
  int type = 0;
  socklen_t type_len = sizeof type;
  if (getsockopt(sock.get(), SOL_SOCKET, SO_TYPE, &type, &type_len) < 0) return Reply::error_of(errno);  // ENOTSOCK
  if (optlen < static_cast<int64_t>(sizeof(int))) return Reply::error_of(EINVAL);
  int val = 0;
  if (int err = read_tracee(call.listener, call.req.id, pid, optval, &val, sizeof val)) return Reply::error_of(err == ENOENT ? ESRCH : err);
  // The kernel stores twice the value (at most INT_MAX): half the cap is the most granted.
  uint64_t most = cap / 2 > static_cast<uint64_t>(INT_MAX / 2) ? INT_MAX / 2 : cap / 2;
  if (val > 0 && static_cast<uint64_t>(val) > most) val = static_cast<int>(most);
  if (setsockopt(sock.get(), SOL_SOCKET, optname, &val, sizeof val) < 0) return Reply::error_of(errno);
  return Reply::value_of(0);
}

}  // namespace lxz
