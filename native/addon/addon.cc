// node-addon-api bindings: thin. The Supervisor class wraps the native
// supervisor (its threads); events arrive in JS as arrays through one
// thread-safe function. Errors from native calls become JS errors only here:
// instances of lxzone's own error class (src/errors.ts), which the TS side
// hands over once with setErrorClass (better-sqlite3's way), carrying errno and
// the failed call. A wrong argument is a programmer's error: TypeError.
#include <napi.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <sys/un.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <memory>

#include "../common/remove_beneath.h"
#include "../supervisor/dispatch.h"
#include "../supervisor/fuse_mount.h"
#include "../supervisor/handlers/handler.h"
#include "../supervisor/supervisor.h"
#include "js_errors.h"
#include "spawn_process.h"

namespace {

using lxz::Event;
using lxz::EventType;
using lxz::kEventNames;

const char* event_name(EventType t) {
  size_t i = static_cast<size_t>(t);
  return i < sizeof kEventNames / sizeof kEventNames[0] ? kEventNames[i] : "unknown";
}

// setErrorClass(LxzoneError): kept per environment (worker or main thread).
Napi::Value SetErrorClass(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsFunction()) {
    Napi::TypeError::New(env, "setErrorClass(ctor): ctor must be a class").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  env.SetInstanceData<Napi::FunctionReference>(new Napi::FunctionReference(Napi::Persistent(info[0].As<Napi::Function>())));
  return env.Undefined();
}

}  // namespace

namespace lxz_addon {

// new LxzoneError(`${syscall} ${subject}: ${strerror}`, { errno, syscall }); a
// plain Error with the same fields before the class is handed over.
Napi::Error errno_error(Napi::Env env, int err, const std::string& syscall, const std::string& subject) {
  std::string message = syscall + (subject.empty() ? "" : " " + subject) + ": " + std::strerror(err);
  Napi::FunctionReference* ctor = env.GetInstanceData<Napi::FunctionReference>();
  if (ctor != nullptr && !ctor->IsEmpty()) {
    Napi::Object opts = Napi::Object::New(env);
    opts.Set("errno", Napi::Number::New(env, err));
    opts.Set("syscall", Napi::String::New(env, syscall));
    Napi::Value e = ctor->New({Napi::String::New(env, message), opts});
    if (!env.IsExceptionPending()) return Napi::Error(env, e);
  }
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, syscall));
  return e;
}

}  // namespace lxz_addon

namespace {

using lxz_addon::errno_error;

Napi::Object event_to_js(Napi::Env env, const Event& e) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("zone", e.zone);
  o.Set("type", event_name(e.type));
  o.Set("a", e.a);
  o.Set("b", e.b);
  if (lxz::event_is_call(e.type)) {
    o.Set("pid", e.pid);
    o.Set("nr", e.nr);
    o.Set("abi", e.abi);
    Napi::Array args = Napi::Array::New(env, 6);
    for (uint32_t i = 0; i < 6; i++) args.Set(i, Napi::BigInt::New(env, e.args[i]));
    o.Set("args", args);
    o.Set("id", Napi::BigInt::New(env, e.id));
  }
  if (!e.text.empty()) o.Set("text", e.text);
  return o;
}

using Batch = std::vector<Event>;

void deliver(Napi::Env env, Napi::Function callback, Batch* batch) {
  std::unique_ptr<Batch> owned(batch);
  if (env == nullptr || callback == nullptr) return;
  Napi::Array out = Napi::Array::New(env, owned->size());
  for (size_t i = 0; i < owned->size(); i++) out.Set(static_cast<uint32_t>(i), event_to_js(env, (*owned)[i]));
  callback.Call({out});
}

class SupervisorWrap : public Napi::ObjectWrap<SupervisorWrap> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Supervisor",
                       {
                           InstanceMethod("attach", &SupervisorWrap::Attach),
                           InstanceMethod("send", &SupervisorWrap::Send),
                           InstanceMethod("respond", &SupervisorWrap::Respond),
                           InstanceMethod("updateMemory", &SupervisorWrap::UpdateMemory),
                           InstanceMethod("counters", &SupervisorWrap::Counters),
                           InstanceMethod("detach", &SupervisorWrap::Detach),
                           InstanceMethod("close", &SupervisorWrap::Close),
                           InstanceMethod("ref", &SupervisorWrap::Ref),
                           InstanceMethod("unref", &SupervisorWrap::Unref),
                           InstanceMethod("threadCount", &SupervisorWrap::ThreadCount),
                       });
  }

  explicit SupervisorWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<SupervisorWrap>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsFunction()) {
      Napi::TypeError::New(env, "Supervisor(onEvents): onEvents must be a function").ThrowAsJavaScriptException();
      return;
    }
    tsfn_ = Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(), "lxzone-supervisor", 0, 1);
    tsfn_.Unref(env);
    auto tsfn = tsfn_;
    // Supervisor(onEvents, threads?): 0 or absent, one thread per CPU (capped).
    unsigned threads = info[1].IsNumber() ? info[1].As<Napi::Number>().Uint32Value() : 0;
    supervisor_ = std::make_unique<lxz::Supervisor>(
        [tsfn](Batch&& batch) mutable {
          auto* heap = new Batch(std::move(batch));
          if (tsfn.BlockingCall(heap, deliver) != napi_ok) delete heap;
        },
        threads);
  }

  ~SupervisorWrap() override { Shutdown(); }

 private:
  void Shutdown() {
    if (!supervisor_) return;
    supervisor_->stop();
    supervisor_.reset();
    tsfn_.Release();
  }

  lxz::Supervisor* Live(Napi::Env env) {
    if (!supervisor_) Napi::Error::New(env, "supervisor is closed").ThrowAsJavaScriptException();
    return supervisor_.get();
  }

  // attach(controlFd, { dispatch: Buffer, hostname, kernelVersion,
  //   kernelVersionEnv, memoryLimit, memoryUsageFile, rebootMarker, traceStringArgs: Buffer,
  //   driverFilter: Buffer }) -> zone id
  Napi::Value Attach(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    lxz::Supervisor* s = Live(env);
    if (!s) return env.Undefined();
    if (!info[0].IsNumber() || !info[1].IsObject()) {
      Napi::TypeError::New(env, "attach(controlFd, options)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    int fd = info[0].As<Napi::Number>().Int32Value();
    Napi::Object o = info[1].As<Napi::Object>();
    Napi::Value d = o.Get("dispatch");
    if (!d.IsBuffer()) {
      Napi::TypeError::New(env, "attach: options.dispatch must be a Buffer").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    auto buf = d.As<Napi::Buffer<uint8_t>>();
    lxz::DispatchTable table;
    lxz::Status st = lxz::DispatchTable::parse(buf.Data(), buf.Length(), lxz::handler_count(), &table);
    if (!st.ok()) {
      errno_error(env, EINVAL, "attach", "(dispatch table: " + st.error().what + ")").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    lxz::ZoneOptions opts;
    auto str = [&](const char* key, std::string* out) {
      Napi::Value v = o.Get(key);
      if (v.IsString()) *out = v.As<Napi::String>().Utf8Value();
    };
    str("hostname", &opts.hostname);
    str("kernelVersion", &opts.kernel_version);
    str("memoryUsageFile", &opts.memory_usage_file);
    str("rebootMarker", &opts.reboot_marker);
    if (o.Get("kernelVersionEnv").IsBoolean()) opts.kernel_version_env = o.Get("kernelVersionEnv").As<Napi::Boolean>();
    if (o.Get("memoryLimit").IsNumber())
      opts.memory_limit = static_cast<uint64_t>(o.Get("memoryLimit").As<Napi::Number>().Int64Value());
    Napi::Value t = o.Get("traceStringArgs");
    if (t.IsBuffer()) {
      auto tb = t.As<Napi::Buffer<uint8_t>>();
      opts.trace_string_args.assign(tb.Data(), tb.Data() + tb.Length());
    }
    Napi::Value df = o.Get("driverFilter");
    if (df.IsBuffer()) {
      auto fb = df.As<Napi::Buffer<uint8_t>>();
      if (!lxz::valid_filter_size(fb.Length())) {
        errno_error(env, EINVAL, "attach", "(driverFilter: not a seccomp filter of 1 to 4096 8-byte instructions)").ThrowAsJavaScriptException();
        return env.Undefined();
      }
      opts.driver_filter.assign(fb.Data(), fb.Data() + fb.Length());
    }
    uint32_t id = s->attach(fd, std::move(table), std::move(opts));
    return Napi::Number::New(env, id);
  }

  // send(zone, type, a): control messages to the keeper (ControlType's continue, signal, abort)
  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    lxz::Supervisor* s = Live(env);
    if (!s) return env.Undefined();
    uint32_t zone = info[0].As<Napi::Number>().Uint32Value();
    uint32_t type = info[1].As<Napi::Number>().Uint32Value();
    int32_t a = info.Length() > 2 && info[2].IsNumber() ? info[2].As<Napi::Number>().Int32Value() : 0;
    if (!lxz::control_from_supervisor(type)) {
      Napi::RangeError::New(env, "send: unknown control type").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    s->send(zone, static_cast<lxz::ControlType>(type), a);
    return env.Undefined();
  }

  // respond(zone, id: bigint, value: number, errno: number)
  Napi::Value Respond(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    lxz::Supervisor* s = Live(env);
    if (!s) return env.Undefined();
    bool lossless;
    uint64_t id = info[1].As<Napi::BigInt>().Uint64Value(&lossless);
    s->respond(info[0].As<Napi::Number>().Uint32Value(), id, info[2].As<Napi::Number>().Int64Value(),
               info[3].As<Napi::Number>().Int32Value());
    return env.Undefined();
  }

  Napi::Value UpdateMemory(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    lxz::Supervisor* s = Live(env);
    if (!s) return env.Undefined();
    s->update_memory(info[0].As<Napi::Number>().Uint32Value(),
                     static_cast<uint64_t>(info[1].As<Napi::Number>().Int64Value()),
                     info[2].IsString() ? info[2].As<Napi::String>().Utf8Value() : std::string());
    return env.Undefined();
  }

  // counters(zone) -> { notified: [[abi, nr, count]], unsupported: [...], handlerErrors, jsTimeouts } | null
  Napi::Value Counters(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    lxz::Supervisor* s = Live(env);
    if (!s) return env.Undefined();
    lxz::ZoneCounters c;
    if (!s->counters(info[0].As<Napi::Number>().Uint32Value(), &c)) return env.Null();
    auto rows = [&](const std::map<std::pair<std::string, int>, uint64_t>& m) {
      Napi::Array a = Napi::Array::New(env, m.size());
      uint32_t i = 0;
      for (const auto& [key, count] : m) {
        Napi::Array row = Napi::Array::New(env, 3);
        row.Set(0u, key.first);
        row.Set(1u, key.second);
        row.Set(2u, static_cast<double>(count));
        a.Set(i++, row);
      }
      return a;
    };
    Napi::Object o = Napi::Object::New(env);
    o.Set("notified", rows(c.notified));
    o.Set("unsupported", rows(c.unsupported));
    o.Set("handlerErrors", static_cast<double>(c.handler_errors));
    o.Set("jsTimeouts", static_cast<double>(c.js_timeouts));
    return o;
  }

  Napi::Value Detach(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    lxz::Supervisor* s = Live(env);
    if (s) s->detach(info[0].As<Napi::Number>().Uint32Value());
    return env.Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Shutdown();
    return info.Env().Undefined();
  }

  Napi::Value ThreadCount(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    lxz::Supervisor* s = Live(env);
    return Napi::Number::New(env, s ? s->thread_count() : 0);
  }

  // While zones run, the event callback must keep the loop alive.
  Napi::Value Ref(const Napi::CallbackInfo& info) {
    if (supervisor_) tsfn_.Ref(info.Env());
    return info.Env().Undefined();
  }
  Napi::Value Unref(const Napi::CallbackInfo& info) {
    if (supervisor_) tsfn_.Unref(info.Env());
    return info.Env().Undefined();
  }

  Napi::ThreadSafeFunction tsfn_;
  std::unique_ptr<lxz::Supervisor> supervisor_;
};

// socketPair() -> [ours, theirs]: a SEQPACKET pair; `ours` is CLOEXEC, `theirs`
// is inherited by the shim (spawn's stdio array).
Napi::Value SocketPair(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0) {
    errno_error(env, errno, "socketpair").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Array a = Napi::Array::New(env, 2);
  a.Set(0u, fds[0]);
  a.Set(1u, fds[1]);
  return a;
}

// connectKeeper(path) -> fd: a SEQPACKET connection to a zone keeper's
// re-attach socket (a restarted supervisor takes its zones back this way).
Napi::Value ConnectKeeper(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  struct sockaddr_un addr = {};
  if (path.size() >= sizeof addr.sun_path) {
    errno_error(env, ENAMETOOLONG, "connect", path).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    errno_error(env, errno, "socket").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  if (connect(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) < 0) {
    int err = errno;
    close(fd);
    errno_error(env, err, "connect", path).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::Number::New(env, fd);
}

// peerCredentials(fd) -> {pid, uid, gid}: SO_PEERCRED of a connected unix
// socket (Node has no API for it). The CLI checks who answers on the
// daemon's socket before trusting it: under a shared /tmp another user could
// have bound it first (issue 14.12).
Napi::Value PeerCredentials(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = info[0].As<Napi::Number>().Int32Value();
  struct ucred cred = {};
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
    errno_error(env, errno, "getsockopt SO_PEERCRED").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("pid", static_cast<double>(cred.pid));
  o.Set("uid", static_cast<double>(cred.uid));
  o.Set("gid", static_cast<double>(cred.gid));
  return o;
}

// overlayWhiteout(path): the character device 0/0 overlayfs reads as "deleted
// in a lower layer"; overlayOpaque(dir): the xattr that hides every lower
// layer's content of a directory. The image store writes OCI whiteouts this
// way into a shared layer (Node's fs has neither mknod nor setxattr).
Napi::Value OverlayWhiteout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  if (mknod(path.c_str(), S_IFCHR | 0000, makedev(0, 0)) < 0) errno_error(env, errno, "mknod", path).ThrowAsJavaScriptException();
  return env.Undefined();
}

// makeFifo(path, mode): mkfifo(3) (Node's fs has none). lxzone-runc's start
// fifo: spawning coreutils' mkfifo cost every `create` a process start.
Napi::Value MakeFifo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  const mode_t mode = static_cast<mode_t>(info[1].As<Napi::Number>().Uint32Value()) & 07777;
  if (mkfifo(path.c_str(), mode) < 0) errno_error(env, errno, "mkfifo", path).ThrowAsJavaScriptException();
  // The mode as asked, whatever this process's umask took off it.
  else if (chmod(path.c_str(), mode) < 0) errno_error(env, errno, "chmod", path).ThrowAsJavaScriptException();
  return env.Undefined();
}

// overlayOpaque(dir, user): with `user`, the user.overlay.opaque xattr that
// an overlay mounted with `userxattr` reads (a rootless user's store: the
// trusted.* namespace is root's).
Napi::Value OverlayOpaque(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  const bool user = info.Length() > 1 && info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
  const char* name = user ? "user.overlay.opaque" : "trusted.overlay.opaque";
  if (lsetxattr(path.c_str(), name, "y", 1, 0) < 0)
    errno_error(env, errno, std::string("setxattr ") + name, path).ThrowAsJavaScriptException();
  return env.Undefined();
}

// overlayIsOpaque(dir): whether the directory carries that xattr (a volume
// seeded from the layers must not copy what an opaque directory hides).
// Either namespace: root's store marks trusted.*, a rootless user's user.*.
Napi::Value OverlayIsOpaque(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  for (const char* name : {"trusted.overlay.opaque", "user.overlay.opaque"}) {
    char v[2] = {0, 0};
    ssize_t n = lgetxattr(path.c_str(), name, v, sizeof v);
    if (n < 0) {
      if (errno == ENODATA || errno == ENOTSUP || errno == EPERM) continue;
      errno_error(env, errno, std::string("getxattr ") + name, path).ThrowAsJavaScriptException();
      return env.Undefined();
    }
    if (n == 1 && v[0] == 'y') return Napi::Boolean::New(env, true);
  }
  return Napi::Boolean::New(env, false);
}

// removeBeneath(parent, name): removes parent/name, a tree a zone wrote (a
// volume's data), through directory fds only and never through a symlink
// (native/common/remove_beneath.h); Node's rm resolves paths again at each step.
Napi::Value RemoveBeneath(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string parent = info[0].As<Napi::String>().Utf8Value();
  std::string name = info[1].As<Napi::String>().Utf8Value();
  lxz::Status s = lxz::remove_beneath(parent, name);
  if (!s.ok()) errno_error(env, s.error().err, s.error().what, parent + "/" + name).ThrowAsJavaScriptException();
  return env.Undefined();
}

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

// sendConsole(socketPath, fd, name): connects to a unix stream socket and
// sends `fd` with SCM_RIGHTS and `name` as the message: runc's
// --console-socket protocol (the terminal master to containerd's shim). Node
// can send no fd over a socket.
Napi::Value SendConsole(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int fd = info[1].As<Napi::Number>().Int32Value();
  std::string name = info[2].As<Napi::String>().Utf8Value();
  struct sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) {
    errno_error(env, ENAMETOOLONG, "connect", path).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  memcpy(addr.sun_path, path.c_str(), path.size());
  int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0) {
    errno_error(env, errno, "socket").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (connect(sock, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) < 0) {
    int err = errno;
    close(sock);
    errno_error(env, err, "connect", path).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  char control[CMSG_SPACE(sizeof(int))] = {};
  struct iovec iov = {const_cast<char*>(name.data()), name.size()};
  struct msghdr msg = {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  struct cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
  ssize_t n;
  do {
    n = sendmsg(sock, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  int err = errno;
  close(sock);
  if (n < 0) errno_error(env, err, "sendmsg", path).ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  close(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

Napi::Value HandlerNames(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array a = Napi::Array::New(env, lxz::handler_count());
  for (size_t i = 0; i < lxz::handler_count(); i++) a.Set(static_cast<uint32_t>(i), lxz::handler_table()[i].name);
  return a;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Supervisor", SupervisorWrap::Init(env));
  exports.Set("socketPair", Napi::Function::New(env, SocketPair));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd));
  exports.Set("overlayWhiteout", Napi::Function::New(env, OverlayWhiteout));
  exports.Set("makeFifo", Napi::Function::New(env, MakeFifo));
  exports.Set("overlayOpaque", Napi::Function::New(env, OverlayOpaque));
  exports.Set("overlayIsOpaque", Napi::Function::New(env, OverlayIsOpaque));
  exports.Set("removeBeneath", Napi::Function::New(env, RemoveBeneath));
  exports.Set("openPty", Napi::Function::New(env, OpenPty));
  exports.Set("sendConsole", Napi::Function::New(env, SendConsole));
  exports.Set("setWindowSize", Napi::Function::New(env, SetWindowSize));
  exports.Set("peerCredentials", Napi::Function::New(env, PeerCredentials));
  exports.Set("connectKeeper", Napi::Function::New(env, ConnectKeeper));
  exports.Set("handlerNames", Napi::Function::New(env, HandlerNames));
  exports.Set("setErrorClass", Napi::Function::New(env, SetErrorClass));
  lxz_addon::register_spawn(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(lxzone, Init)
