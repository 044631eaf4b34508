// A busy zone's own serving thread (issue 18). It blocks in
// SECCOMP_IOCTL_NOTIF_RECV on the zone's listener, so the kernel's same-CPU
// hand-off reaches it: with SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP the kernel
// wakes a thread waiting in RECV on the notifying CPU, but a thread waiting
// in epoll_wait is woken by epoll's own wake-up, which drops that hint (and
// costs an epoll_wait per call besides). Per notification it makes RECV and
// SEND and, for the CONTINUE/ENOSYS answers, nothing else.
//
// The supervisor thread (supervisor_thread.h) serves every zone from one
// epoll loop, promotes a zone that notifies often to one of these, demotes it
// when it falls quiet, and stops it before the zone is detached. Stopping
// interrupts RECV with a signal (stop_signal()), sent to this thread only.
// While it runs, the zone's handlers run here under Zone::serve_mu, which the
// supervisor thread takes whenever it touches their state.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

#include "events.h"
#include "notification.h"
#include "zone.h"

namespace lxz {

class HotServer {
 public:
  // Hands the events the zone's handlers made to the supervisor thread;
  // `now`: a handler holds a call (JS owes the answer), send them at once.
  using Deliver = std::function<void(std::vector<Event>&& events, bool now)>;

  HotServer(Zone& zone, NotifSizes sizes, Deliver deliver);
  ~HotServer();
  HotServer(const HotServer&) = delete;
  HotServer& operator=(const HotServer&) = delete;

  // Returns once the thread has ended; every notification it received is answered (or held for JS).
  void stop();
  // The listener has no users left (every process of the zone is gone): the thread ended by itself.
  bool gone() const { return gone_.load(std::memory_order_acquire); }
  // Notifications served so far (the supervisor thread's measure of quiet).
  uint64_t served() const { return served_.load(std::memory_order_relaxed); }

 private:
  void run();

  Zone& zone_;
  NotifSizes sizes_;
  Deliver deliver_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> ended_{false};
  std::atomic<bool> gone_{false};
  std::atomic<uint64_t> served_{0};
  std::thread thread_;
};

}  // namespace lxz
