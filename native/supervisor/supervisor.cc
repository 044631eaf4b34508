#include "supervisor.h"

#include <sched.h>
#include <algorithm>
#include <thread>

namespace lxz {
namespace {

// The CPUs this process may run on (a pinned or confined launcher has fewer
// than the machine), else what the machine has.
unsigned usable_cpus() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return static_cast<unsigned>(CPU_COUNT(&set));
  return std::thread::hardware_concurrency();
}

}  // namespace

Supervisor::Supervisor(EventSink sink, unsigned threads) {
  if (threads == 0) threads = std::clamp(usable_cpus(), 1u, kMaxThreads);
  threads = std::clamp(threads, 1u, kMaxThreads);
  // Every thread hands its batches to the same sink (a thread-safe function).
  for (unsigned i = 0; i < threads; i++) threads_.push_back(std::make_unique<SupervisorThread>(sink));
  load_.assign(threads, 0);
}

Supervisor::~Supervisor() { stop(); }

void Supervisor::stop() {
  for (auto& t : threads_) t->stop();
}

uint32_t Supervisor::attach(int control_fd, DispatchTable dispatch, ZoneOptions options) {
  uint32_t id;
  size_t pick;
  {
    std::lock_guard<std::mutex> lock(mu_);
    id = next_zone_++;
    pick = static_cast<size_t>(std::min_element(load_.begin(), load_.end()) - load_.begin());
    load_[pick]++;
    owner_[id] = pick;
  }
  threads_[pick]->attach(id, control_fd, std::move(dispatch), std::move(options));
  return id;
}

SupervisorThread* Supervisor::owner(uint32_t zone) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = owner_.find(zone);
  return it == owner_.end() ? nullptr : threads_[it->second].get();
}

void Supervisor::send(uint32_t zone, ControlType type, int32_t a) {
  if (SupervisorThread* t = owner(zone)) t->send(zone, type, a);
}

void Supervisor::respond(uint32_t zone, uint64_t id, int64_t value, int error) {
  if (SupervisorThread* t = owner(zone)) t->respond(zone, id, value, error);
}

void Supervisor::update_memory(uint32_t zone, uint64_t limit, const std::string& usage_file) {
  if (SupervisorThread* t = owner(zone)) t->update_memory(zone, limit, usage_file);
}

bool Supervisor::counters(uint32_t zone, ZoneCounters* out) {
  SupervisorThread* t = owner(zone);
  return t != nullptr && t->counters(zone, out);
}

void Supervisor::detach(uint32_t zone) {
  SupervisorThread* t;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = owner_.find(zone);
    if (it == owner_.end()) return;
    t = threads_[it->second].get();
    load_[it->second]--;
    owner_.erase(it);
  }
  t->detach(zone);
}

}  // namespace lxz
