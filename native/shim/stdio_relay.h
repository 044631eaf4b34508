// A zone's stdin, stdout and stderr are pipes the keeper owns; the keeper
// copies between them and its own fds 0, 1 and 2 (the caller's terminal or
// pipes, or the zone's log files, log_file.h), as docker exec does. No zone
// process ever holds a host fd: it cannot keep the caller's terminal after
// an exec returned, ioctl it, ftruncate a log file, or write past the cap.
#pragma once
#include <poll.h>
#include <string>
#include <vector>

#include "../common/fd.h"
#include "../common/result.h"
#include "log_file.h"

namespace lxz {

class StdioRelay {
 public:
  // Makes the pipes (before the zone's first process is cloned). Without
  // `with_stdin` (a terminal relays input instead) the zone's stdin is at
  // end-of-file. Log files, when given, receive stdout and stderr.
  Status open(bool with_stdin, LogFile* out_log, LogFile* err_log);
  bool active() const { return active_; }
  // In the cloned child: the pipes become its fds 0, 1 and 2.
  void child_side();
  // In the keeper once the child exists: the child's ends closed.
  void parent_side();

  // The fds to poll this round, appended to `fds`; then handle() with the
  // same vector.
  void add_pollfds(std::vector<struct pollfd>& fds);
  void handle(const std::vector<struct pollfd>& fds);
  // At the zone's end: what it wrote last, without ever blocking on it (a
  // process left behind may hold the pipe open).
  void drain();

 private:
  void copy_out(Fd& from, int to, LogFile* log);
  void feed_in();
  void end_input();

  bool active_ = false;
  Fd in_r_, in_w_, out_r_, out_w_, err_r_, err_w_;
  bool reading_stdin_ = false;
  std::string pending_in_;
  LogFile* out_log_ = nullptr;
  LogFile* err_log_ = nullptr;
  size_t first_ = 0;  // index of our first pollfd this round
  int slots_[4] = {-1, -1, -1, -1};
};

}  // namespace lxz
