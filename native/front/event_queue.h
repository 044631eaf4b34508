// The supervisor's events, handed from its thread to the main thread: a
// queue under a lock and an eventfd the main thread polls.
#pragma once
#include <mutex>
#include <vector>

#include "../common/fd.h"
#include "../supervisor/events.h"

namespace lxz::front {

class EventQueue {
 public:
  EventQueue();
  // Called on a supervisor thread (the Supervisor's EventSink).
  void push(std::vector<Event>&& batch);
  // Called on the main thread once fd() is readable: everything queued so far.
  std::vector<Event> take();
  int fd() const { return wake_.get(); }

 private:
  std::mutex mu_;
  std::vector<Event> events_;
  Fd wake_;
};

}  // namespace lxz::front
