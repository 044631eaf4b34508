#include "tty_relay.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <cerrno>

namespace lxz {

void TtyRelay::start(int master, LogFile* log) {
  master_.reset(master);
  log_ = log;
  input_open_ = true;
  if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_) == 0) {
    struct termios raw = saved_;
    cfmakeraw(&raw);
    if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0) saved_valid_ = true;
  }
  copy_window_size();
}

void TtyRelay::start_console(int master, LogFile* log) {
  master_.reset(master);
  log_ = log;
  console_peer_.reset(ioctl(master_.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
}

void TtyRelay::copy_window_size() {
  struct winsize ws;
  if (master_.valid() && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) ioctl(master_.get(), TIOCSWINSZ, &ws);
}

void TtyRelay::restore_terminal() {
  if (saved_valid_) tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  saved_valid_ = false;
}

void TtyRelay::relay_output() {
  if (!master_.valid()) return;
  char buf[8192];
  for (;;) {
    struct pollfd p = {master_.get(), POLLIN, 0};
    if (poll(&p, 1, 0) <= 0 || !(p.revents & POLLIN)) {
      if (p.revents & (POLLHUP | POLLERR)) master_.reset();  // every slave closed
      return;
    }
    ssize_t n = read(master_.get(), buf, sizeof buf);
    if (n <= 0) {
      master_.reset();
      return;
    }
    if (log_) {
      log_->write(buf, static_cast<size_t>(n));
      continue;
    }
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(STDOUT_FILENO, buf + off, static_cast<size_t>(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) break;
      off += w;
    }
  }
}

void TtyRelay::relay_input() {
  char buf[4096];
  ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
  if (n <= 0) {
    // End of input: the terminal sees end-of-file (^D in canonical mode).
    input_open_ = false;
    if (master_.valid()) (void)!write(master_.get(), "\x04", 1);
    return;
  }
  if (master_.valid()) (void)!write(master_.get(), buf, static_cast<size_t>(n));
}

}  // namespace lxz
