// The supervisor: the zones of one process, spread over a few supervisor
// threads (supervisor_thread.h). A zone stays on the thread it was given, so
// its events keep their order; a new zone goes to the thread serving the
// fewest, so a zone flooding its thread with notified syscalls does not hold
// up the zones on the others (one thread already serves its zones in turn).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "supervisor_thread.h"

namespace lxz {

class Supervisor {
 public:
  // threads = 0: one per CPU this process may use, at most kMaxThreads.
  explicit Supervisor(EventSink sink, unsigned threads = 0);
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  static constexpr unsigned kMaxThreads = 4;

  // Takes ownership of the keeper's control socket. Returns the zone id.
  uint32_t attach(int control_fd, DispatchTable dispatch, ZoneOptions options);
  void send(uint32_t zone, ControlType type, int32_t a);
  void respond(uint32_t zone, uint64_t id, int64_t value, int error);
  void update_memory(uint32_t zone, uint64_t limit, const std::string& usage_file);
  bool counters(uint32_t zone, ZoneCounters* out);
  void detach(uint32_t zone);
  void stop();
  unsigned thread_count() const { return static_cast<unsigned>(threads_.size()); }

 private:
  // The thread serving `zone`, or null for a zone never attached or detached.
  SupervisorThread* owner(uint32_t zone);

  std::vector<std::unique_ptr<SupervisorThread>> threads_;
  std::mutex mu_;  // guards what follows
  uint32_t next_zone_ = 1;
  std::map<uint32_t, size_t> owner_;  // zone -> index in threads_
  std::vector<size_t> load_;          // zones per thread
};

}  // namespace lxz
