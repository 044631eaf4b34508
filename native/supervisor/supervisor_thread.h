// One supervisor thread: it serves the seccomp listeners of the zones given
// to it (epoll, one notification per ready listener per round), dispatching
// each notification through the zone's dense table to a handler, and hands
// events on in batches. The hot path never enters JavaScript. The Supervisor
// (supervisor.h) spreads zones over several of these.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "../common/fd.h"
#include "../common/protocol.h"
#include "events.h"
#include "hot_server.h"
#include "notification.h"
#include "zone.h"

namespace lxz {

using EventSink = std::function<void(std::vector<Event>&&)>;

class SupervisorThread {
 public:
  explicit SupervisorThread(EventSink sink);
  ~SupervisorThread();
  SupervisorThread(const SupervisorThread&) = delete;
  SupervisorThread& operator=(const SupervisorThread&) = delete;

  // Takes ownership of the keeper's control socket; `id` is the zone's, unique across threads.
  void attach(uint32_t id, int control_fd, DispatchTable dispatch, ZoneOptions options);
  void send(uint32_t zone, ControlType type, int32_t a);
  void respond(uint32_t zone, uint64_t id, int64_t value, int error);
  void update_memory(uint32_t zone, uint64_t limit, const std::string& usage_file);
  bool counters(uint32_t zone, ZoneCounters* out);
  void detach(uint32_t zone);
  void stop();

 private:
  struct Command {
    enum Kind { kAttach, kSend, kRespond, kDetach, kMemory };
    explicit Command(Kind k) : kind(k) {}
    Kind kind;
    uint32_t zone = 0;
    std::unique_ptr<Zone> new_zone;
    ControlType type = ControlType::kContinue;
    int32_t a = 0;
    uint64_t id = 0;
    int64_t value = 0;
    int error = 0;
    uint64_t limit = 0;
    std::string text;
  };

  void loop();
  void run_commands();
  void on_control(Zone& z);
  void on_notification(Zone& z);
  void answer(int listener, uint64_t id, int64_t value, int error, bool cont);
  void expire_js_calls();
  void remove_zone(uint32_t id);
  void flush(bool force);
  void post(Command c);
  // Hot zones (hot_server.h): promoted when busy, demoted when quiet.
  void count_for_promotion(Zone& z);
  void promote(Zone& z);
  void stop_hot(uint32_t id, bool rewatch);
  void check_hot();
  void take_hot_events();

  EventSink sink_;
  Fd epoll_;
  Fd wake_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};

  std::mutex commands_mu_;
  std::vector<Command> commands_;

  std::mutex zones_mu_;  // guards the map itself (the JS thread reads counters)
  std::map<uint32_t, std::unique_ptr<Zone>> zones_;

  struct Hot {
    std::unique_ptr<HotServer> server;
    uint64_t served = 0;      // served() when last looked at
    uint64_t changed_ms = 0;  // when it last changed
  };
  std::map<uint32_t, Hot> hot_;
  // Events from hot servers, taken into batch_ by this thread.
  std::mutex hot_mu_;
  std::vector<Event> hot_events_;
  bool hot_now_ = false;

  std::vector<Event> batch_;
  uint64_t batch_started_ms_ = 0;
  NotifSizes sizes_;
  bool sync_wakeup_supported_ = true;
};

}  // namespace lxz
