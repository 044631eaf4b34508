// The process that made the zone's namespaces (zone_namespaces.h) is told to
// exit once they are open and is not waited for then: its exit is a hand-off
// to another process (a scheduling delay on a busy host, 1-3 ms at load 4 on
// two CPUs) that nothing on the zone's start path needs. The keeper reaps it
// later, so that it is not left a zombie (a host pid) for the zone's life.
#pragma once
#include <sys/types.h>

namespace lxz {

// Reaps the namespace holder (exit_signal 0, so only __WALL finds it);
// without `block`, only if it has already exited. Returns whether it is
// reaped (or there was none).
bool reap_namespace_holder(pid_t holder, bool block);

// The keeper's one holder, from its making until it is reaped.
class NamespaceHolder {
 public:
  NamespaceHolder() = default;
  NamespaceHolder(const NamespaceHolder&) = delete;
  NamespaceHolder& operator=(const NamespaceHolder&) = delete;

  void adopt(pid_t pid) { pid_ = pid; }
  // Reaps it if it has exited; true once it is reaped (or there was none).
  bool reap_if_gone();
  // For the keeper's poll: -1 once it is reaped, else a short timeout after
  // which the keeper looks again (its exit is a matter of milliseconds).
  int poll_timeout_ms();
  // Waits for it: the zone's start failed or the zone has ended, and it was
  // told to exit long before.
  void reap();

 private:
  pid_t pid_ = -1;
};

}  // namespace lxz
