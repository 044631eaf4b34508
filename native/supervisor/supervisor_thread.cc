#include "supervisor_thread.h"
#include "zone_proc.h"

#include <linux/seccomp.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/utsname.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>

#include "../common/unix_socket.h"
#include "handlers/handler.h"
#include "notification.h"
#include "tracee_handles.h"
#include "tracee_memory.h"

namespace lxz {
namespace {

constexpr uint64_t kWakeTag = 0;
constexpr uint64_t kKindControl = 1;
constexpr uint64_t kKindListener = 2;
constexpr size_t kBatchMax = 256;
constexpr uint64_t kBatchDelayMs = 20;
constexpr int kMaxEvents = 64;
// A zone that makes kHotCalls notifications within kHotWindowMs gets its own
// serving thread (hot_server.h); one quiet for kQuietMs goes back to the
// epoll loop. At most kMaxHot per supervisor thread, so threads stay bounded
// whatever the number of zones, and so does the CPU the supervisor spends
// for zones (a hot thread serves one zone's calls one at a time while its
// callers wait: about one CPU at most, none of it charged to the zone);
// other zones stay on the epoll loop, as fast as before, and a flooding
// zone's calls no longer queue with theirs.
constexpr uint32_t kHotCalls = 64;
constexpr uint64_t kHotWindowMs = 1000;
constexpr uint64_t kQuietMs = 2000;
constexpr size_t kMaxHot = 2;

uint64_t tag(uint32_t zone, uint64_t kind) { return (uint64_t{zone} << 8) | kind; }

}  // namespace

SupervisorThread::SupervisorThread(EventSink sink) : sink_(std::move(sink)) {
  epoll_.reset(epoll_create1(EPOLL_CLOEXEC));
  wake_.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  struct epoll_event ev = {};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeTag;
  epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wake_.get(), &ev);

  sizes_ = notification_sizes();
  thread_ = std::thread([this] { loop(); });
}

SupervisorThread::~SupervisorThread() { stop(); }

void SupervisorThread::stop() {
  if (stopping_.exchange(true)) return;
  uint64_t one = 1;
  (void)!write(wake_.get(), &one, sizeof one);
  if (thread_.joinable()) thread_.join();
}

void SupervisorThread::post(Command c) {
  {
    std::lock_guard<std::mutex> lock(commands_mu_);
    commands_.push_back(std::move(c));
  }
  uint64_t one = 1;
  (void)!write(wake_.get(), &one, sizeof one);
}

void SupervisorThread::attach(uint32_t id, int control_fd, DispatchTable dispatch, ZoneOptions options) {
  auto zone = std::make_unique<Zone>();
  zone->id = id;
  zone->control.reset(control_fd);
  zone->dispatch = std::move(dispatch);
  zone->options = std::move(options);
  struct utsname host;
  if (::uname(&host) == 0) {
    zone->options.host_release = host.release;
    zone->options.host_version = host.version;
    zone->options.host_machine = host.machine;
  }
  zone->boot_ms = boottime_ms();
  // Lazily honour UNAME26 only when the profile tells us who asks for it.
  constexpr unsigned long kUname26 = 0x0020000;
  long own = ::personality(0xffffffff);
  zone->uname26_possible = !zone->dispatch.every_abi_uses(kHandlerPersonality) || (own >= 0 && (own & kUname26));
  Command c(Command::kAttach);
  c.zone = id;
  c.new_zone = std::move(zone);
  post(std::move(c));
}

void SupervisorThread::send(uint32_t zone, ControlType type, int32_t a) {
  Command c(Command::kSend);
  c.zone = zone;
  c.type = type;
  c.a = a;
  post(std::move(c));
}

void SupervisorThread::respond(uint32_t zone, uint64_t id, int64_t value, int error) {
  Command c(Command::kRespond);
  c.zone = zone;
  c.id = id;
  c.value = value;
  c.error = error;
  post(std::move(c));
}

void SupervisorThread::update_memory(uint32_t zone, uint64_t limit, const std::string& usage_file) {
  Command c(Command::kMemory);
  c.zone = zone;
  c.limit = limit;
  c.text = usage_file;
  post(std::move(c));
}

void SupervisorThread::detach(uint32_t zone) {
  Command c(Command::kDetach);
  c.zone = zone;
  post(std::move(c));
}

bool SupervisorThread::counters(uint32_t zone, ZoneCounters* out) {
  std::lock_guard<std::mutex> lock(zones_mu_);
  auto it = zones_.find(zone);
  if (it == zones_.end()) return false;
  std::lock_guard<std::mutex> clock(it->second->counters_mu);
  *out = it->second->counters;
  return true;
}

void SupervisorThread::run_commands() {
  std::vector<Command> commands;
  {
    std::lock_guard<std::mutex> lock(commands_mu_);
    commands.swap(commands_);
  }
  for (Command& c : commands) {
    if (c.kind == Command::kAttach) {
      Zone* z = c.new_zone.get();
      {
        std::lock_guard<std::mutex> lock(zones_mu_);
        zones_[c.zone] = std::move(c.new_zone);
      }
      struct epoll_event ev = {};
      ev.events = EPOLLIN;
      ev.data.u64 = tag(z->id, kKindControl);
      epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, z->control.get(), &ev);
      continue;
    }
    auto it = zones_.find(c.zone);
    if (it == zones_.end()) continue;
    Zone& z = *it->second;
    switch (c.kind) {
      case Command::kSend:
        if (z.control.valid()) send_control(z.control.get(), c.type, c.a);
        break;
      case Command::kRespond: {
        std::lock_guard<std::mutex> lock(z.serve_mu);
        auto p = z.js_pending.find(c.id);
        if (p == z.js_pending.end()) break;  // timed out already
        int listener = p->second.listener;
        z.js_pending.erase(p);
        answer(listener, c.id, c.value, c.error, false);
        break;
      }
      case Command::kMemory: {
        std::lock_guard<std::mutex> lock(z.serve_mu);
        z.options.memory_limit = c.limit;
        z.options.memory_usage_file = c.text;
        break;
      }
      case Command::kDetach:
        remove_zone(c.zone);
        break;
      case Command::kAttach:
        break;
    }
  }
}

void SupervisorThread::remove_zone(uint32_t id) {
  auto it = zones_.find(id);
  if (it == zones_.end()) return;
  Zone& z = *it->second;
  stop_hot(id, false);  // first: nothing serves the zone from here on but this thread
  // Answer what JS still owes before the listener goes.
  for (auto& [call_id, pending] : z.js_pending) answer(pending.listener, call_id, 0, ENOSYS, false);
  if (z.control.valid()) epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, z.control.get(), nullptr);
  if (z.listener.valid()) {
    epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, z.listener.get(), nullptr);
    forget_tracees_of(z.listener.get());
  }
  std::unique_ptr<Zone> dead;
  {
    std::lock_guard<std::mutex> lock(zones_mu_);
    dead = std::move(it->second);
    zones_.erase(it);
  }
}

void SupervisorThread::on_control(Zone& z) {
  ControlMessage msg;
  int r = recv_control(z.control.get(), &msg);
  Event e;
  e.zone = z.id;
  if (r <= 0) {
    // The keeper is gone (the zone has exited or the keeper died).
    epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, z.control.get(), nullptr);
    z.control.reset();
    e.type = EventType::kClosed;
    batch_.push_back(e);
    flush(true);
    // The keeper has let go of it: the last reference, so the teardown
    // happens here, while the keeper exits and its launcher wakes.
    z.ended_mount_ns.reset();
    return;
  }
  e.a = msg.header.a;
  e.b = msg.header.b;
  e.text = msg.text;
  switch (msg.header.type) {
    case ControlType::kCreated: {
      std::lock_guard<std::mutex> lock(z.serve_mu);
      z.init_pid = msg.header.a;
      e.type = EventType::kCreated;
      break;
    }
    case ControlType::kReady: {
      if (msg.fd >= 0 && hot_.count(z.id)) stop_hot(z.id, false);  // a re-sent listener replaces the one served
      std::lock_guard<std::mutex> lock(z.serve_mu);
      if (msg.fd < 0) return;
      z.init_pid = msg.header.a;  // also after a re-attach, where no kCreated came
      z.listener.reset(msg.fd);
      // Now, for a fresh zone, no zone code has run yet (zone_proc.h).
      if (!z.proc_dir.valid()) z.proc_dir = open_zone_proc(z.init_pid);
      if (sync_wakeup_supported_ && !enable_sync_wakeup(z.listener.get()) && errno == EINVAL)
        sync_wakeup_supported_ = false;
      struct epoll_event ev = {};
      ev.events = EPOLLIN;
      ev.data.u64 = tag(z.id, kKindListener);
      epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, z.listener.get(), &ev);
      e.type = EventType::kReady;
      break;
    }
    case ControlType::kStarted: e.type = EventType::kStarted; break;
    case ControlType::kExecFailed: e.type = EventType::kExecFailed; break;
    case ControlType::kSetupFailed: e.type = EventType::kSetupFailed; break;
    case ControlType::kExited:
      e.type = EventType::kExited;
      if (msg.fd >= 0) z.ended_mount_ns.reset(msg.fd);  // closed with the control socket, above
      msg.fd = -1;
      break;
    default:
      if (msg.fd >= 0) close(msg.fd);
      return;
  }
  if (msg.fd >= 0 && msg.header.type != ControlType::kReady) close(msg.fd);
  batch_.push_back(std::move(e));
  flush(true);  // lifecycle events go out at once
}

void SupervisorThread::answer(int listener, uint64_t id, int64_t value, int error, bool cont) {
  answer_notification(listener, sizes_, id, value, error, cont);
}

void SupervisorThread::on_notification(Zone& z) {
  Served s = serve_notification(z, sizes_, batch_);
  if (s == Served::kGone) {
    // The listener is dead (no filter users left): stop watching it.
    epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, z.listener.get(), nullptr);
    forget_tracees_of(z.listener.get());
    z.listener.reset();
    return;
  }
  count_for_promotion(z);
  if (s == Served::kHeld) {
    flush(true);
    return;
  }
  if (!batch_.empty() && batch_started_ms_ == 0) batch_started_ms_ = monotonic_ms();
  flush(false);
}

void SupervisorThread::count_for_promotion(Zone& z) {
  uint64_t now = monotonic_ms();
  if (now - z.window_ms > kHotWindowMs) {
    z.window_ms = now;
    z.window_calls = 0;
  }
  if (++z.window_calls >= kHotCalls && hot_.size() < kMaxHot && z.listener.valid()) promote(z);
}

void SupervisorThread::promote(Zone& z) {
  // Out of the epoll set first: from here on only the hot server RECVs.
  epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, z.listener.get(), nullptr);
  Hot& h = hot_[z.id];
  h.changed_ms = monotonic_ms();
  h.server = std::make_unique<HotServer>(z, sizes_, [this](std::vector<Event>&& events, bool now) {
    bool wake;
    {
      std::lock_guard<std::mutex> lock(hot_mu_);
      wake = hot_events_.empty() || (now && !hot_now_);
      for (Event& e : events) hot_events_.push_back(std::move(e));
      hot_now_ |= now;
    }
    // Once per batch, not per event: the loop takes them all when it wakes.
    uint64_t one = 1;
    if (wake) (void)!write(wake_.get(), &one, sizeof one);
  });
}

// Ends a zone's hot server; `rewatch`: serve the zone from the epoll loop again.
void SupervisorThread::stop_hot(uint32_t id, bool rewatch) {
  auto it = hot_.find(id);
  if (it == hot_.end()) return;
  it->second.server->stop();
  bool gone = it->second.server->gone();
  hot_.erase(it);
  take_hot_events();  // what it made before it ended
  auto z = zones_.find(id);
  if (z == zones_.end() || !z->second->listener.valid()) return;
  Zone& zone = *z->second;
  zone.window_ms = 0;
  zone.window_calls = 0;
  if (gone) {
    // Every process of the zone is gone: as a hang-up seen by epoll.
    forget_tracees_of(zone.listener.get());
    zone.listener.reset();
  } else if (rewatch) {
    struct epoll_event ev = {};
    ev.events = EPOLLIN;
    ev.data.u64 = tag(id, kKindListener);
    epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, zone.listener.get(), &ev);
  }
}

// Each round: hot servers whose zone is gone end; quiet ones go back to epoll.
void SupervisorThread::check_hot() {
  if (hot_.empty()) return;
  uint64_t now = monotonic_ms();
  std::vector<std::pair<uint32_t, bool>> done;
  for (auto& [id, h] : hot_) {
    uint64_t served = h.server->served();
    if (served != h.served) {
      h.served = served;
      h.changed_ms = now;
    }
    if (h.server->gone()) done.push_back({id, false});
    else if (now - h.changed_ms > kQuietMs) done.push_back({id, true});
  }
  for (auto [id, rewatch] : done) stop_hot(id, rewatch);
}

void SupervisorThread::take_hot_events() {
  bool now;
  {
    std::lock_guard<std::mutex> lock(hot_mu_);
    if (hot_events_.empty() && !hot_now_) return;
    for (Event& e : hot_events_) batch_.push_back(std::move(e));
    hot_events_.clear();
    now = hot_now_;
    hot_now_ = false;
  }
  if (!batch_.empty() && batch_started_ms_ == 0) batch_started_ms_ = monotonic_ms();
  flush(now);
}

void SupervisorThread::expire_js_calls() {
  uint64_t now = monotonic_ms();
  for (auto& [zid, zone] : zones_) {
    std::lock_guard<std::mutex> lock(zone->serve_mu);
    for (auto it = zone->js_pending.begin(); it != zone->js_pending.end();) {
      if (it->second.deadline_ms > now) {
        ++it;
        continue;
      }
      answer(it->second.listener, it->first, 0, ENOSYS, false);
      {
        std::lock_guard<std::mutex> lock(zone->counters_mu);
        zone->counters.js_timeouts++;
      }
      it = zone->js_pending.erase(it);
    }
  }
}

void SupervisorThread::flush(bool force) {
  if (batch_.empty()) return;
  if (!force && batch_.size() < kBatchMax && monotonic_ms() - batch_started_ms_ < kBatchDelayMs) return;
  std::vector<Event> out;
  out.swap(batch_);
  batch_started_ms_ = 0;
  sink_(std::move(out));
}

void SupervisorThread::loop() {
  // Named so that tools (and test/50.supervisor.hot-path) can find the hot path's thread.
  pthread_setname_np(pthread_self(), "lxz-sup");
  struct epoll_event events[kMaxEvents];
  while (!stopping_) {
    int timeout = batch_.empty() ? 250 : static_cast<int>(kBatchDelayMs);
    int n = epoll_wait(epoll_.get(), events, kMaxEvents, timeout);
    if (n < 0 && errno != EINTR) break;
    // One notification per ready listener per round: a zone that floods the
    // supervisor waits its turn behind every other zone.
    for (int i = 0; i < n; i++) {
      uint64_t t = events[i].data.u64;
      if (t == kWakeTag) {
        uint64_t v;
        (void)!read(wake_.get(), &v, sizeof v);
        continue;
      }
      auto it = zones_.find(static_cast<uint32_t>(t >> 8));
      if (it == zones_.end()) continue;
      Zone& z = *it->second;
      if ((t & 0xff) == kKindControl && z.control.valid()) on_control(z);
      else if ((t & 0xff) == kKindListener && z.listener.valid()) {
        if (events[i].events & EPOLLIN) {
          on_notification(z);
        } else {
          // Hung up with nothing pending: every process of the zone is gone.
          // (RECV would block here, so never call it without EPOLLIN.)
          epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, z.listener.get(), nullptr);
          forget_tracees_of(z.listener.get());
          z.listener.reset();
        }
      }
    }
    run_commands();
    take_hot_events();
    check_hot();
    expire_js_calls();
    flush(false);
  }
  while (!hot_.empty()) stop_hot(hot_.begin()->first, false);
  flush(true);
}

}  // namespace lxz
