#include "stdio_relay.h"

#include <fcntl.h>
#include <unistd.h>
#include <cerrno>
#include <tuple>

namespace lxz {
namespace {

constexpr size_t kChunk = 65536;
enum Slot { kStdin, kZoneIn, kZoneOut, kZoneErr };

Status make_pipe(Fd* r, Fd* w, bool keeper_reads) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return sys_error("pipe for the zone's stdio");
  r->reset(p[0]);
  w->reset(p[1]);
  // The keeper's end never blocks: a zone that stops reading or writing
  // must not stall the keeper.
  int ours = keeper_reads ? p[0] : p[1];
  fcntl(ours, F_SETFL, fcntl(ours, F_GETFL) | O_NONBLOCK);
  return {};
}

bool write_all(int fd, const char* buf, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, buf, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    buf += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

Status StdioRelay::open(bool with_stdin, LogFile* out_log, LogFile* err_log) {
  LXZ_TRY(make_pipe(&in_r_, &in_w_, false));
  LXZ_TRY(make_pipe(&out_r_, &out_w_, true));
  LXZ_TRY(make_pipe(&err_r_, &err_w_, true));
  out_log_ = out_log;
  err_log_ = err_log;
  reading_stdin_ = with_stdin;
  active_ = true;
  return {};
}

void StdioRelay::child_side() {
  dup2(in_r_.get(), 0);
  dup2(out_w_.get(), 1);
  dup2(err_w_.get(), 2);
  // The rest are CLOEXEC and closed before the zone's binary anyway
  // (close_inherited_fds); close them now so no zone process has them.
  for (Fd* f : {&in_r_, &in_w_, &out_r_, &out_w_, &err_r_, &err_w_}) f->reset();
}

void StdioRelay::parent_side() {
  in_r_.reset();
  out_w_.reset();
  err_w_.reset();
  if (!reading_stdin_) end_input();
}

void StdioRelay::end_input() {
  reading_stdin_ = false;
  pending_in_.clear();
  in_w_.reset();  // the zone reads end-of-file
}

void StdioRelay::add_pollfds(std::vector<struct pollfd>& fds) {
  first_ = fds.size();
  for (int& s : slots_) s = -1;
  if (!active_) return;
  auto add = [&](Slot slot, int fd, short events) {
    slots_[slot] = static_cast<int>(fds.size());
    fds.push_back({fd, events, 0});
  };
  // Input waits while the zone has not taken what we read last.
  if (reading_stdin_ && pending_in_.empty()) add(kStdin, STDIN_FILENO, POLLIN);
  if (in_w_.valid() && !pending_in_.empty()) add(kZoneIn, in_w_.get(), POLLOUT);
  if (out_r_.valid()) add(kZoneOut, out_r_.get(), POLLIN);
  if (err_r_.valid()) add(kZoneErr, err_r_.get(), POLLIN);
}

void StdioRelay::handle(const std::vector<struct pollfd>& fds) {
  auto ready = [&](Slot s) { return slots_[s] >= 0 && fds[static_cast<size_t>(slots_[s])].revents != 0; };
  if (ready(kZoneOut)) copy_out(out_r_, STDOUT_FILENO, out_log_);
  if (ready(kZoneErr)) copy_out(err_r_, STDERR_FILENO, err_log_);
  if (ready(kStdin)) {
    char buf[kChunk];
    ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
    if (n > 0) pending_in_.assign(buf, static_cast<size_t>(n));
    else if (n == 0 || (errno != EINTR && errno != EAGAIN)) end_input();
  }
  if (ready(kZoneIn) || !pending_in_.empty()) feed_in();
}

void StdioRelay::feed_in() {
  if (!in_w_.valid()) return;
  ssize_t w = write(in_w_.get(), pending_in_.data(), pending_in_.size());
  if (w > 0) pending_in_.erase(0, static_cast<size_t>(w));
  else if (w < 0 && errno != EAGAIN && errno != EINTR) end_input();  // the zone closed its stdin (EPIPE)
}

void StdioRelay::copy_out(Fd& from, int to, LogFile* log) {
  char buf[2 * kChunk];
  ssize_t n = read(from.get(), buf, kChunk);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    from.reset();  // every writer closed
    return;
  }
  size_t len = static_cast<size_t>(n);
  // For a log, the rest of a line already in the pipe comes along: files
  // are rotated at line ends (log_file.h).
  while (log && buf[len - 1] != '\n' && len < sizeof buf) {
    ssize_t more = read(from.get(), buf + len, sizeof buf - len);
    if (more <= 0) break;
    len += static_cast<size_t>(more);
  }
  if (log) {
    log->write(buf, len);
  } else if (!write_all(to, buf, len)) {
    // Our reader is gone (EPIPE): the zone gets EPIPE too, as it would
    // writing to the reader directly.
    from.reset();
  }
}

void StdioRelay::drain() {
  if (!active_) return;
  for (int round = 0; round < 1024 && (out_r_.valid() || err_r_.valid()); round++) {
    bool any = false;
    for (auto [fd, to, log] : {std::tuple{&out_r_, STDOUT_FILENO, out_log_}, std::tuple{&err_r_, STDERR_FILENO, err_log_}}) {
      if (!fd->valid()) continue;
      struct pollfd p = {fd->get(), POLLIN, 0};
      if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN)) continue;
      copy_out(*fd, to, log);
      any = true;
    }
    if (!any) break;
  }
}

}  // namespace lxz
