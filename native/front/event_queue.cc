#include "event_queue.h"

#include <sys/eventfd.h>
#include <unistd.h>

namespace lxz::front {

EventQueue::EventQueue() : wake_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

void EventQueue::push(std::vector<Event>&& batch) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (Event& e : batch) events_.push_back(std::move(e));
  }
  uint64_t one = 1;
  (void)!write(wake_.get(), &one, sizeof one);
}

std::vector<Event> EventQueue::take() {
  uint64_t n;
  (void)!read(wake_.get(), &n, sizeof n);
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Event> out;
  out.swap(events_);
  return out;
}

}  // namespace lxz::front
