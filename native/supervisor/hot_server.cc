#include "hot_server.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>
#include <mutex>

namespace lxz {
namespace {

// A real-time signal, sent with pthread_kill to a hot server's thread only.
// Its handler does nothing: delivered without SA_RESTART, it makes a RECV
// waiting for a notification fail with EINTR, and the thread checks whether
// it is to stop. (ID_VALID and SEND retry their EINTR: tracee_memory.cc,
// notification.cc.)
int stop_signal() { return SIGRTMIN + 5; }

void on_stop_signal(int) {}

void install_stop_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa = {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: RECV must return
    sigaction(stop_signal(), &sa, nullptr);
  });
}

// RECV failed with ENOENT: the caller went away, or the filter has no users
// left (then every RECV fails at once, and poll says POLLHUP).
bool hung_up(int listener) {
  struct pollfd p = {listener, POLLIN, 0};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLHUP) && !(p.revents & POLLIN);
}

}  // namespace

HotServer::HotServer(Zone& zone, NotifSizes sizes, Deliver deliver)
    : zone_(zone), sizes_(sizes), deliver_(std::move(deliver)) {
  install_stop_handler();
  thread_ = std::thread([this] { run(); });
}

HotServer::~HotServer() { stop(); }

void HotServer::stop() {
  if (!thread_.joinable()) return;
  stopping_.store(true, std::memory_order_release);
  // A signal that lands between the thread's check of stopping_ and its RECV
  // is lost; send again until it has ended.
  while (!ended_.load(std::memory_order_acquire)) {
    pthread_kill(thread_.native_handle(), stop_signal());
    for (int i = 0; i < 20 && !ended_.load(std::memory_order_acquire); i++) usleep(50);
  }
  thread_.join();
}

void HotServer::run() {
  pthread_setname_np(pthread_self(), "lxz-hot");
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, stop_signal());
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  const int listener = zone_.listener.get();
  std::vector<Event> events;
  NotifBuffer buf;
  while (!stopping_.load(std::memory_order_acquire)) {
    RecvResult r = recv_notification(listener, sizes_, &buf);
    if (r == RecvResult::kInterrupted) continue;
    if (r == RecvResult::kGone || (r == RecvResult::kNone && hung_up(listener))) {
      gone_.store(true, std::memory_order_release);
      break;
    }
    if (r == RecvResult::kNone) continue;
    // Received: answered (or held) whatever comes next, stop included.
    Served s;
    {
      std::lock_guard<std::mutex> lock(zone_.serve_mu);
      s = dispatch_notification(zone_, sizes_, *buf.notif(), events);
    }
    served_.fetch_add(1, std::memory_order_relaxed);
    if (!events.empty() || s == Served::kHeld) {
      deliver_(std::move(events), s == Served::kHeld);
      events.clear();
    }
  }
  ended_.store(true, std::memory_order_release);
}

}  // namespace lxz
