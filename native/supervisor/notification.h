// One seccomp notification: received, dispatched through the zone's dense
// table to its handler, answered. The one dispatch implementation, shared by
// the supervisor threads (the addon) and by a keeper that serves its own
// zone while no supervisor is attached (the shim, keeper_server.h).
#pragma once
#include <linux/seccomp.h>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "events.h"
#include "zone.h"

namespace lxz {

// The kernel's sizes of seccomp_notif and seccomp_notif_resp, never smaller
// than the structures we know.
struct NotifSizes {
  size_t notif = 0;
  size_t resp = 0;
};
NotifSizes notification_sizes();

// Sends one answer (a value, an errno or CONTINUE); ENOENT (the tracee died)
// is not an error here.
void answer_notification(int listener, const NotifSizes& sizes, uint64_t id, int64_t value, int error, bool cont);

// Asks the kernel to hand a notification to the serving thread on the
// notifying CPU (SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP, Linux 6.6+). The flag is
// the listener's (every fd of it, every server: supervisor or keeper). False
// on an older kernel, which keeps the plain wake-up.
bool enable_sync_wakeup(int listener);

enum class Served {
  kAnswered,  // answered (or the caller went away before we read it)
  kHeld,      // not answered yet: a TypeScript handler owes it (js_pending), or the caller is being killed
  kGone,      // the listener is dead (no filter users left): stop watching it
};

// Room for one seccomp_notif of the kernel's size (NotifSizes::notif).
struct NotifBuffer {
  alignas(struct seccomp_notif) char bytes[512];
  const struct seccomp_notif* notif() const { return reinterpret_cast<const struct seccomp_notif*>(bytes); }
};

enum class RecvResult {
  kReceived,     // *buf holds a notification that must be answered
  kInterrupted,  // a signal (EINTR): nothing was received
  kNone,         // ENOENT: the caller went away first, or the listener has no users left
  kGone,         // the listener cannot be served
};

// One SECCOMP_IOCTL_NOTIF_RECV: blocks until a notification is pending (or
// the filter loses its last user, or a signal arrives).
RecvResult recv_notification(int listener, const NotifSizes& sizes, NotifBuffer* buf);

// Dispatches a received notification and answers it (kAnswered), or leaves
// it to a TypeScript handler (kHeld).
Served dispatch_notification(Zone& z, const NotifSizes& sizes, const struct seccomp_notif& req, std::vector<Event>& events);

// Receives one notification from z.listener (which must be readable: RECV
// blocks otherwise), counts it, dispatches it and answers it. Events the
// handler makes are appended to `events`.
Served serve_notification(Zone& z, const NotifSizes& sizes, std::vector<Event>& events);

}  // namespace lxz
