#include "notification.h"

#include <linux/seccomp.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "handlers/handler.h"
#include "tracee_memory.h"

// Linux 6.6: wake the serving thread on the notifying CPU (~50 µs -> ~6 µs here).
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

namespace lxz {

bool enable_sync_wakeup(int listener) {
  uint64_t flags = SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP;
  // EINVAL: a kernel before 6.6; the plain wake-up (another CPU, slower) stays.
  return ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS, flags) == 0;
}

NotifSizes notification_sizes() {
  NotifSizes s;
  struct seccomp_notif_sizes sizes = {};
  if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &sizes) == 0) {
    s.notif = sizes.seccomp_notif;
    s.resp = sizes.seccomp_notif_resp;
  }
  if (s.notif < sizeof(struct seccomp_notif)) s.notif = sizeof(struct seccomp_notif);
  if (s.resp < sizeof(struct seccomp_notif_resp)) s.resp = sizeof(struct seccomp_notif_resp);
  return s;
}

void answer_notification(int listener, const NotifSizes& sizes, uint64_t id, int64_t value, int error, bool cont) {
  alignas(struct seccomp_notif_resp) char buf[256];
  std::memset(buf, 0, sizes.resp <= sizeof buf ? sizes.resp : sizeof buf);
  auto* resp = reinterpret_cast<struct seccomp_notif_resp*>(buf);
  resp->id = id;
  if (cont) {
    resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  } else if (error) {
    resp->error = -error;
  } else {
    resp->val = value;
  }
  // ENOENT: the tracee died (or was interrupted) after the call was read.
  // EINTR: a hot server's stop signal (hot_server.h) while the lock was contended.
  while (ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, resp) < 0 && errno == EINTR) {
  }
}

RecvResult recv_notification(int listener, const NotifSizes& sizes, NotifBuffer* buf) {
  if (sizes.notif > sizeof buf->bytes) return RecvResult::kGone;  // a kernel with a larger struct than any we know
  std::memset(buf->bytes, 0, sizes.notif);                          // RECV requires a zeroed buffer
  if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, buf->bytes) == 0) return RecvResult::kReceived;
  if (errno == EINTR) return RecvResult::kInterrupted;
  if (errno == ENOENT) return RecvResult::kNone;  // the caller went away before we read it (or no users are left)
  return RecvResult::kGone;
}

Served dispatch_notification(Zone& z, const NotifSizes& sizes, const struct seccomp_notif& req, std::vector<Event>& events) {
  int abi = z.dispatch.abi_index(req.data.arch);
  uint8_t id = z.dispatch.handler(abi, req.data.nr);
  if (abi < 0) id = kHandlerUnsupported;
  {
    std::lock_guard<std::mutex> lock(z.counters_mu);
    z.counters.notified[{abi < 0 ? std::string("?") : z.dispatch.abi_name(abi), counter_nr(req.data.nr)}]++;
  }
  Reply reply;
  if (abi < 0) {
    reply = Reply::error_of(ENOSYS);  // the filter kills foreign arches; never reached
  } else {
    Call call{z, z.listener.get(), req, abi, events};
    reply = handler_table()[id].fn(call);
  }
  if (reply.kind == Reply::kPending || reply.kind == Reply::kNone) return Served::kHeld;
  if (reply.kind == Reply::kError && reply.error == ENOENT && !notification_valid(z.listener.get(), req.id))
    return Served::kAnswered;
  answer_notification(z.listener.get(), sizes, req.id, reply.value, reply.kind == Reply::kError ? reply.error : 0,
                      reply.kind == Reply::kContinue);
  return Served::kAnswered;
}

Served serve_notification(Zone& z, const NotifSizes& sizes, std::vector<Event>& events) {
  NotifBuffer buf;
  switch (recv_notification(z.listener.get(), sizes, &buf)) {
    case RecvResult::kReceived: return dispatch_notification(z, sizes, *buf.notif(), events);
    case RecvResult::kInterrupted:
    case RecvResult::kNone: return Served::kAnswered;
    case RecvResult::kGone: break;
  }
  return Served::kGone;
}

}  // namespace lxz
