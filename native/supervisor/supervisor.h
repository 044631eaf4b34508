// The supervisor: one native thread serving the seccomp listeners of every
// zone attached to it (epoll), dispatching each notification through the
// zone's dense table to a handler, and handing events to TypeScript in
// batches. The hot path never enters JavaScript.
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
#include "zone.h"

namespace lxz {

class Supervisor {
 public:
  using EventSink = std::function<void(std::vector<Event>&&)>;

  explicit Supervisor(EventSink sink);
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Takes ownership of the keeper's control socket. Returns the zone id.
  uint32_t attach(int control_fd, DispatchTable dispatch, ZoneOptions options);
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

  EventSink sink_;
  Fd epoll_;
  Fd wake_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint32_t> next_zone_{1};

  std::mutex commands_mu_;
  std::vector<Command> commands_;

  std::mutex zones_mu_;  // guards the map itself (the JS thread reads counters)
  std::map<uint32_t, std::unique_ptr<Zone>> zones_;

  std::vector<Event> batch_;
  uint64_t batch_started_ms_ = 0;
  size_t notif_size_ = 0;
  size_t resp_size_ = 0;
  bool sync_wakeup_supported_ = true;
};

}  // namespace lxz
