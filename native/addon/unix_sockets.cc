// Unix sockets Node cannot make or use: SEQPACKET pairs and connections,
// the peer's credentials, an fd sent with SCM_RIGHTS.
#include <napi.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <string>

#include "bindings.h"
#include "js_errors.h"

namespace {

using lxz_addon::errno_error;

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

// closeFd(fd): close(2) of an fd the addon gave (a socket, a pty end).
Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  close(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

}  // namespace

namespace lxz_addon {

void register_sockets(Napi::Env env, Napi::Object exports) {
  exports.Set("socketPair", Napi::Function::New(env, SocketPair));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd));
  exports.Set("sendConsole", Napi::Function::New(env, SendConsole));
  exports.Set("peerCredentials", Napi::Function::New(env, PeerCredentials));
  exports.Set("connectKeeper", Napi::Function::New(env, ConnectKeeper));
}

}  // namespace lxz_addon
