// With -t, the zone's binary has a pseudo-terminal in the zone's own devpts;
// the keeper holds its master and relays it to the caller's terminal (raw
// while the zone runs), with the window size on SIGWINCH.
#pragma once
#include <termios.h>
#include "../common/fd.h"
#include "log_file.h"

namespace lxz {

class TtyRelay {
 public:
  // Takes the master the zone process sent; the caller's terminal goes raw.
  // With `log`, output goes there (within its cap) instead of our stdout.
  void start(int master, LogFile* log = nullptr);
  // A system zone's console (/dev/console): output only, into `log` (our
  // stdout without one). A peer held open here keeps the terminal from
  // hanging up while systemd closes and reopens it, so the copying never
  // stops and a writer never blocks on a full terminal.
  void start_console(int master, LogFile* log);
  bool active() const { return master_.valid(); }
  int master() const { return master_.get(); }
  // The caller's stdin while it has not ended (-1 otherwise), for poll.
  int input() const { return input_open_ ? 0 : -1; }
  void copy_window_size();
  void relay_output();
  void relay_input();
  void restore_terminal();

 private:
  Fd master_;
  Fd console_peer_;  // a slave of the console, never read
  LogFile* log_ = nullptr;
  bool input_open_ = false;
  struct termios saved_ = {};
  bool saved_valid_ = false;
};

}  // namespace lxz
