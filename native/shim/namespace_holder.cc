#include "namespace_holder.h"

#include <sys/wait.h>
#include <cerrno>

namespace lxz {
namespace {

constexpr int kReapAgainMs = 20;

}  // namespace

bool reap_namespace_holder(pid_t holder, bool block) {
  if (holder <= 0) return true;
  int status;
  pid_t r;
  while ((r = waitpid(holder, &status, __WALL | (block ? 0 : WNOHANG))) < 0 && errno == EINTR) {
  }
  return r != 0;  // reaped, or not ours any more (ECHILD)
}

bool NamespaceHolder::reap_if_gone() {
  if (pid_ > 0 && reap_namespace_holder(pid_, false)) pid_ = -1;
  return pid_ <= 0;
}

int NamespaceHolder::poll_timeout_ms() { return reap_if_gone() ? -1 : kReapAgainMs; }

void NamespaceHolder::reap() {
  reap_namespace_holder(pid_, true);
  pid_ = -1;
}

}  // namespace lxz
