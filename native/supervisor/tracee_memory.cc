#include "tracee_memory.h"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>
#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>

#include "../common/fd.h"

namespace lxz {
namespace {

// Opens a file of /proc/PID, then checks that the notification is still
// pending. If it is, the tracee was alive after the open, so its pid cannot
// have been reused before it: the fd is the tracee's, whatever happens next.
int open_for_tracee(int listener, uint64_t id, pid_t pid, const char* name, int flags, Fd* out) {
  std::string path = "/proc/" + std::to_string(pid) + "/" + name;
  out->reset(open(path.c_str(), flags | O_CLOEXEC));
  if (!out->valid()) return errno == ENOENT || errno == ESRCH ? ENOENT : errno;
  if (!notification_valid(listener, id)) return ENOENT;
  return 0;
}

}  // namespace

int open_tracee_proc(int listener, uint64_t id, pid_t pid, const char* name, int flags, Fd* out) {
  return open_for_tracee(listener, id, pid, name, flags, out);
}

bool notification_valid(int listener, uint64_t id) {
  // EINTR: a hot server's stop signal (hot_server.h) while the lock was contended; not an answer.
  int r;
  while ((r = ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &id)) < 0 && errno == EINTR) {
  }
  return r == 0;
}

// Through process_vm_writev, not /proc/PID/mem: the mem file writes with
// FOLL_FORCE, through a read-only or PROT_NONE page, where the kernel's own
// copy_to_user faults. process_vm_writev honours page protections, so an
// emulated call fails with EFAULT where Linux's would, and like copy_to_user
// it stops at the first page it cannot write (the bytes before stay written,
// as they would natively).
//
// It names the tracee by pid, so the tracee is proven alive (its pid its
// own) just before: by an ID_VALID check here, or by the caller
// (write_live_tracee). For the write to reach a process that reused the pid,
// the tracee would have to die, be reaped, and its pid be handed out again,
// all between two of our syscalls. No check after: it could not undo a
// write, and a dead tracee's answer is dropped by SEND (ENOENT) anyway.
int write_tracee(int listener, uint64_t id, pid_t pid, uint64_t addr, const void* data, size_t len) {
  if (!notification_valid(listener, id)) return ENOENT;
  return write_live_tracee(pid, addr, data, len);
}

int write_live_tracee(pid_t pid, uint64_t addr, const void* data, size_t len) {
  if (addr > static_cast<uint64_t>(LLONG_MAX) - len) return EFAULT;
  struct iovec local = {const_cast<void*>(data), len};
  struct iovec remote = {reinterpret_cast<void*>(static_cast<uintptr_t>(addr)), len};
  ssize_t n = process_vm_writev(pid, &local, 1, &remote, 1, 0);
  if (n < 0) return errno == ESRCH ? ENOENT : EFAULT;
  return static_cast<size_t>(n) == len ? 0 : EFAULT;
}

int read_tracee(int listener, uint64_t id, pid_t pid, uint64_t addr, void* data, size_t len) {
  if (addr > static_cast<uint64_t>(LLONG_MAX) - len) return EFAULT;
  if (!notification_valid(listener, id)) return ENOENT;
  struct iovec local = {data, len};
  struct iovec remote = {reinterpret_cast<void*>(static_cast<uintptr_t>(addr)), len};
  ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
  if (!notification_valid(listener, id)) return ENOENT;
  return n >= 0 && static_cast<size_t>(n) == len ? 0 : EFAULT;
}

// One process_vm_readv, no file opened (issue 18: /proc/PID/mem was opened
// per call): the bytes up to `max`, one remote iovec per page, so a page the
// tracee cannot read ends the read there (a partial read) and the pages
// before it still count, as the kernel's strncpy_from_user reads them. Page
// protections are honoured as there, too: a PROT_NONE string is EFAULT, where
// /proc/PID/mem (FOLL_FORCE) read it. By pid, so checked after: if the call
// is still pending, the tracee was alive after the read and its pid its own.
int read_tracee_string(int listener, uint64_t id, pid_t pid, uint64_t addr, size_t max, std::string* out) {
  out->clear();
  if (max > kMaxTraceeString) max = kMaxTraceeString;
  if (max == 0) return notification_valid(listener, id) ? 0 : ENOENT;
  if (addr > static_cast<uint64_t>(LLONG_MAX) - max) max = static_cast<size_t>(static_cast<uint64_t>(LLONG_MAX) - addr);
  if (max == 0) return EFAULT;
  char buf[kMaxTraceeString];
  constexpr size_t kPages = kMaxTraceeString / 4096 + 1;
  struct iovec remote[kPages];
  size_t n = 0, planned = 0;
  while (planned < max && n < kPages) {
    uint64_t at = addr + planned;
    size_t chunk = std::min<size_t>(4096 - (at & 4095), max - planned);
    remote[n++] = {reinterpret_cast<void*>(static_cast<uintptr_t>(at)), chunk};
    planned += chunk;
  }
  struct iovec local = {buf, planned};
  ssize_t got = process_vm_readv(pid, &local, 1, remote, n, 0);
  // What we read is used only if the call is still pending now.
  if (!notification_valid(listener, id)) return ENOENT;
  if (got <= 0) return EFAULT;
  const char* nul = static_cast<const char*>(std::memchr(buf, 0, static_cast<size_t>(got)));
  out->assign(buf, nul ? static_cast<size_t>(nul - buf) : static_cast<size_t>(got));
  return 0;
}

std::string read_proc_file(int listener, uint64_t id, pid_t pid, const char* name, size_t max) {
  Fd fd;
  if (open_for_tracee(listener, id, pid, name, O_RDONLY, &fd)) return {};
  std::string out;
  char buf[4096];
  while (out.size() < max) {
    ssize_t n = read(fd.get(), buf, std::min(sizeof buf, max - out.size()));
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return notification_valid(listener, id) ? out : std::string();
}

}  // namespace lxz
