#include "tracee_handles.h"

#include <sys/syscall.h>
#include <unistd.h>
#include <cerrno>

#include "../common/fd.h"
#include "tracee_memory.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL  // Linux 6.9: a pidfd of any thread, not only a leader
#endif
#include <fcntl.h>

namespace lxz {
namespace {

// 16 entries per supervisor thread: the threads a zone's busy processes
// notify from; a miss costs one pidfd_open and one ID_VALID. Fds stay bounded
// (16 per supervisor thread, whatever the number of zones).
constexpr unsigned kSlots = 16;

struct Slot {
  pid_t tid = 0;
  int listener = -1;  // whose notification opened it (forget_tracees_of)
  Fd pidfd;
};

thread_local Slot slots[kSlots];
thread_local bool thread_pidfds = true;  // PIDFD_THREAD known to this kernel

Slot& slot_of(pid_t tid) { return slots[static_cast<unsigned>(tid) % kSlots]; }

int open_pidfd(pid_t tid) {
  if (thread_pidfds) {
    int fd = static_cast<int>(syscall(SYS_pidfd_open, tid, PIDFD_THREAD));
    if (fd >= 0 || errno != EINVAL) return fd;
    thread_pidfds = false;  // before 6.9: leaders only (a thread's call then falls back)
  }
  return static_cast<int>(syscall(SYS_pidfd_open, tid, 0));
}

}  // namespace

int tracee_pidfd(int listener, uint64_t id, pid_t tid) {
  Slot& s = slot_of(tid);
  if (s.tid == tid && s.pidfd.valid()) return s.pidfd.get();
  s.tid = 0;
  s.pidfd.reset(open_pidfd(tid));
  // Opened before the check: if the call is still pending, its thread was
  // alive after the open, so the pidfd is of that thread.
  if (!s.pidfd.valid() || !notification_valid(listener, id)) {
    s.pidfd.reset();
    return -1;
  }
  s.tid = tid;
  s.listener = listener;
  return s.pidfd.get();
}

void forget_tracee(pid_t tid) {
  Slot& s = slot_of(tid);
  if (s.tid != tid) return;
  s.tid = 0;
  s.pidfd.reset();
}

void forget_tracees_of(int listener) {
  for (Slot& s : slots) {
    if (s.listener != listener) continue;
    s.tid = 0;
    s.listener = -1;
    s.pidfd.reset();
  }
}

}  // namespace lxz
