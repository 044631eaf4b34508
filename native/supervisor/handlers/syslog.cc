// syslog(2) / dmesg: the host's kernel log never reaches a zone. A zone has a
// log of its own, which is empty: reads return nothing, the rest succeeds;
// its buffer has Linux's default size.
//
// Checks in Linux's order (kernel/printk/printk.c, do_syslog): first the
// privilege (check_syslog_permissions), then the action and its arguments.
// The privilege is CAP_SYSLOG (or, deprecated, CAP_SYS_ADMIN) in the zone's
// user namespace, the owner of the zone's log: reading the whole log and its
// size needs none unless kernel.dmesg_restrict is set (the host's value, as
// the zone's read-only /proc/sys shows it). An unknown action needs the
// privilege too before it is EINVAL, as in Linux.
#include <fcntl.h>
#include <linux/capability.h>
#include <unistd.h>
#include <cerrno>

#include "handler.h"
#include "zone_caps.h"

namespace lxz {
namespace {

enum : int {
  kClose = 0, kOpen = 1, kRead = 2, kReadAll = 3, kReadClear = 4, kClear = 5,
  kConsoleOff = 6, kConsoleOn = 7, kConsoleLevel = 8, kSizeUnread = 9, kSizeBuffer = 10,
};

// The zone's log buffer: the size of Linux's default (CONFIG_LOG_BUF_SHIFT
// 17), not the host's, which is the host's boot configuration.
constexpr int kZoneLogBuffer = 1 << 17;

bool dmesg_restricted() {
  int fd = open("/proc/sys/kernel/dmesg_restrict", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return true;  // unknown: the stricter answer
  char c = '1';
  ssize_t n = read(fd, &c, 1);
  close(fd);
  return n != 1 || c != '0';
}

bool restricted(int type) { return dmesg_restricted() || (type != kReadAll && type != kSizeBuffer); }

// access_ok(): the buffer must lie below the top of user space (whether it
// is mapped does not matter to an empty log, which copies nothing).
bool user_range_ok(const Call& call, uint64_t addr, uint64_t len) {
  const uint64_t top = call.is_32bit() ? 0x100000000ull : 0x00fffffffffff000ull;
  return addr <= top && len <= top - addr;
}

}  // namespace

Reply handle_syslog(Call& call) {
  int type = static_cast<int>(call.req.data.args[0]);
  uint64_t buf = call.req.data.args[1];
  if (call.is_32bit()) buf &= 0xffffffffull;
  int64_t len = static_cast<int32_t>(call.req.data.args[2]);
  if (restricted(type) && !caller_has_zone_capability(call, CAP_SYSLOG) &&
      !caller_has_zone_capability(call, CAP_SYS_ADMIN))
    return Reply::error_of(EPERM);
  switch (type) {
    case kClose:
    case kOpen:
      return Reply::value_of(0);
    case kRead:
    case kReadAll:
    case kReadClear:
      if (buf == 0 || len < 0) return Reply::error_of(EINVAL);
      if (len == 0) return Reply::value_of(0);
      if (!user_range_ok(call, buf, static_cast<uint64_t>(len))) return Reply::error_of(EFAULT);
      // Linux's READ waits for a message; the zone's log never gets one, and
      // a supervisor thread must not wait: nothing to read.
      return Reply::value_of(0);
    case kClear:
    case kConsoleOff:
    case kConsoleOn:
      return Reply::value_of(0);
    case kConsoleLevel:
      if (len < 1 || len > 8) return Reply::error_of(EINVAL);
      return Reply::value_of(0);
    case kSizeUnread:
      return Reply::value_of(0);
    case kSizeBuffer:
      // An empty log still has a buffer: 0 reads as "no kernel log" (dmesg
      // tools and stress-ng's klog give up), Linux never answers it.
      return Reply::value_of(kZoneLogBuffer);
    default:
      return Reply::error_of(EINVAL);
  }
}

}  // namespace lxz
