// Host pseudo-terminals: a pair for the portal's and Docker's terminals,
// and their window size.
#include <napi.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>
#include <cerrno>

#include "bindings.h"
#include "js_errors.h"

namespace {

using lxz_addon::errno_error;

// openPty(cols, rows) -> [master, slave]: a host pseudo-terminal pair, both
// close-on-exec (Node has no API for it). The portal's terminal gives the
// slave to an exec keeper as its stdio: the keeper then sets it raw and
// copies its window size into the zone's own terminal (SIGWINCH), exactly as
// for `lxzone exec -t` in a real terminal; the portal reads and writes the
// master.
Napi::Value OpenPty(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) {
    errno_error(env, errno, "posix_openpt").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (unlockpt(master) < 0) {
    int err = errno;
    close(master);
    errno_error(env, err, "unlockpt").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  // TIOCGPTPEER: the slave without a path lookup (no race on /dev/pts/N).
  int slave = ioctl(master, _IO('T', 0x41), O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) {
    int err = errno;
    close(master);
    errno_error(env, err, "ioctl TIOCGPTPEER").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  // Raw from the start: the host pty is only a transport (the zone's own pty
  // does the line discipline); keys sent before the keeper sets it raw must
  // not be echoed or held for a newline here.
  struct termios raw;
  if (tcgetattr(slave, &raw) == 0) {
    cfmakeraw(&raw);
    tcsetattr(slave, TCSANOW, &raw);
  }
  struct winsize ws = {};
  ws.ws_col = static_cast<unsigned short>(info[0].IsNumber() ? info[0].As<Napi::Number>().Uint32Value() : 80);
  ws.ws_row = static_cast<unsigned short>(info[1].IsNumber() ? info[1].As<Napi::Number>().Uint32Value() : 24);
  ioctl(master, TIOCSWINSZ, &ws);
  Napi::Array a = Napi::Array::New(env, 2);
  a.Set(0u, Napi::Number::New(env, master));
  a.Set(1u, Napi::Number::New(env, slave));
  return a;
}

// setWindowSize(fd, cols, rows): TIOCSWINSZ on a terminal.
Napi::Value SetWindowSize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  struct winsize ws = {};
  ws.ws_col = static_cast<unsigned short>(info[1].As<Napi::Number>().Uint32Value());
  ws.ws_row = static_cast<unsigned short>(info[2].As<Napi::Number>().Uint32Value());
  if (ioctl(fd, TIOCSWINSZ, &ws) < 0) errno_error(env, errno, "ioctl TIOCSWINSZ").ThrowAsJavaScriptException();
  return env.Undefined();
}

}  // namespace

namespace lxz_addon {

void register_terminals(Napi::Env env, Napi::Object exports) {
  exports.Set("openPty", Napi::Function::New(env, OpenPty));
  exports.Set("setWindowSize", Napi::Function::New(env, SetWindowSize));
}

}  // namespace lxz_addon
