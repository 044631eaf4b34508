// Starting lxzone-shim without forking Node (issue 18). child_process.spawn
// forks the whole launcher: the kernel copies the page tables of a process of
// a hundred MiB or more, and Node then takes a copy-on-write fault on each
// page it writes until the child has exec'd; on every zone start. posix_spawn
// (glibc: clone(CLONE_VM|CLONE_VFORK)) shares the launcher's memory with the
// child until its execve and copies nothing.
//
// The child's fds are set by file actions only (nothing of ours runs in the
// child): each wanted fd is first duplicated close-on-exec above every
// target, so that one dup2 per target gives the child exactly its fds (a
// dup2 onto a different number clears close-on-exec; our copies do not
// survive the execve). Signals: all default, none blocked (Node ignores
// SIGPIPE, and an ignored signal would stay ignored in the shim).
//
// Its end is seen through a pidfd polled on Node's own loop (uv_poll), and
// reaped with waitid(P_PIDFD): libuv reaps only the pids it spawned, so
// nothing else takes its status. Signals go through the pidfd as well, so a
// kill after the process is reaped can never reach a reused pid.
#include "spawn_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "../common/spawn_signals.h"
#include "js_errors.h"

extern char** environ;

namespace lxz_addon {
namespace {

#ifndef P_PIDFD
constexpr idtype_t P_PIDFD = static_cast<idtype_t>(3);
#endif

struct Child {
  uv_poll_t poll;
  pid_t pid = -1;
  int pidfd = -1;
  Napi::Env env;
  Napi::FunctionReference on_exit;
  std::unique_ptr<Napi::AsyncContext> context;
  explicit Child(Napi::Env e) : env(e) {}
};

// Children not reaped yet, by pid (the addon runs on Node's main thread only:
// vitest's forks, never worker threads).
std::unordered_map<pid_t, Child*>& children() {
  static std::unordered_map<pid_t, Child*> map;
  return map;
}

void on_closed(uv_handle_t* h) {
  Child* c = static_cast<Child*>(h->data);
  close(c->pidfd);
  delete c;
}

void on_pidfd(uv_poll_t* handle, int status, int events) {
  Child* c = static_cast<Child*>(handle->data);
  siginfo_t si = {};
  if (waitid(P_PIDFD, static_cast<id_t>(c->pidfd), &si, WEXITED | WNOHANG) < 0) {
    if (errno == EINTR) return;
    // ECHILD: someone else reaped it; report it as lost (exit status unknown).
    si.si_pid = c->pid;
    si.si_code = CLD_EXITED;
    si.si_status = 255;
  } else if (si.si_pid == 0) {
    return;  // woken early: not exited yet
  }
  uv_poll_stop(handle);
  children().erase(c->pid);
  bool exited = si.si_code == CLD_EXITED;
  Napi::Env env = c->env;
  {
    Napi::HandleScope scope(env);
    Napi::Value code = exited ? Napi::Number::New(env, si.si_status) : env.Null();
    Napi::Value sig = exited ? Napi::Number::New(env, 0) : Napi::Number::New(env, si.si_status);
    try {
      c->on_exit.MakeCallback(env.Global(), {code, sig}, *c->context);
    } catch (const Napi::Error& e) {
      napi_fatal_exception(env, e.Value());
    }
  }
  uv_close(reinterpret_cast<uv_handle_t*>(handle), on_closed);
}

Napi::Value throw_errno(Napi::Env env, int err, const std::string& call, const std::string& subject = "") {
  errno_error(env, err, call, subject).ThrowAsJavaScriptException();
  return env.Undefined();
}

// spawnProcess(path, argv, fds, detached, onExit(code|null, signal)) -> pid.
// fds[i] becomes the child's fd i (-1: /dev/null). `detached`: a session of
// its own (setsid). onExit runs once, after the child is reaped.
Napi::Value SpawnProcess(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString() || !info[1].IsArray() || !info[2].IsArray() || !info[4].IsFunction()) {
    Napi::TypeError::New(env, "spawnProcess(path, argv, fds, detached, onExit)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  std::string path = info[0].As<Napi::String>().Utf8Value();
  Napi::Array jargv = info[1].As<Napi::Array>();
  Napi::Array jfds = info[2].As<Napi::Array>();
  bool detached = info[3].ToBoolean().Value();

  std::vector<std::string> args;
  for (uint32_t i = 0; i < jargv.Length(); i++) args.push_back(jargv.Get(i).ToString().Utf8Value());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  // Our close-on-exec copies, all numbered above every target.
  const int n = static_cast<int>(jfds.Length());
  std::vector<int> copies;
  auto drop_copies = [&copies] {
    for (int fd : copies) close(fd);
  };
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  for (int i = 0; i < n; i++) {
    int src = jfds.Get(static_cast<uint32_t>(i)).As<Napi::Number>().Int32Value();
    if (src < 0) {
      posix_spawn_file_actions_addopen(&actions, i, "/dev/null", O_RDWR, 0);
      continue;
    }
    int copy = fcntl(src, F_DUPFD_CLOEXEC, n);
    if (copy < 0) {
      int err = errno;
      drop_copies();
      posix_spawn_file_actions_destroy(&actions);
      return throw_errno(env, err, "fcntl F_DUPFD_CLOEXEC", "fd " + std::to_string(src));
    }
    copies.push_back(copy);
    posix_spawn_file_actions_adddup2(&actions, copy, i);
  }
  posix_spawnattr_t attr;
  lxz::init_spawnattr_clean_signals(&attr, detached ? POSIX_SPAWN_SETSID : 0);

  pid_t pid = -1;
  int err = posix_spawn(&pid, path.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  drop_copies();
  if (err != 0) return throw_errno(env, err, "posix_spawn", path);

  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    // Cannot happen for our own unreaped child on a kernel lxzone runs on;
    // do not leave it running unwatched.
    err = errno;
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return throw_errno(env, err, "pidfd_open");
  }
  fcntl(pidfd, F_SETFD, FD_CLOEXEC);
  auto c = std::make_unique<Child>(env);
  c->pid = pid;
  c->pidfd = pidfd;
  c->on_exit = Napi::Persistent(info[4].As<Napi::Function>());
  c->context = std::make_unique<Napi::AsyncContext>(env, "lxzone:shim");
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  int uerr = uv_poll_init(loop, &c->poll, pidfd);
  if (uerr == 0) {
    c->poll.data = c.get();
    uerr = uv_poll_start(&c->poll, UV_READABLE, on_pidfd);
  }
  if (uerr != 0) {
    syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
    waitid(P_PIDFD, static_cast<id_t>(pidfd), nullptr, WEXITED);
    close(pidfd);
    Napi::Error::New(env, std::string("uv_poll on a pidfd: ") + uv_strerror(uerr)).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  children()[pid] = c.release();
  return Napi::Number::New(env, pid);
}

// signalProcess(pid, sig) -> sent: only to a child of spawnProcess not yet
// reaped (through its pidfd: never a reused pid).
Napi::Value SignalProcess(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  pid_t pid = info[0].As<Napi::Number>().Int32Value();
  int sig = info[1].As<Napi::Number>().Int32Value();
  auto it = children().find(pid);
  if (it == children().end()) return Napi::Boolean::New(env, false);
  if (syscall(SYS_pidfd_send_signal, it->second->pidfd, sig, nullptr, 0) < 0) {
    if (errno == ESRCH) return Napi::Boolean::New(env, false);
    return throw_errno(env, errno, "pidfd_send_signal");
  }
  return Napi::Boolean::New(env, true);
}

// refProcess(pid, ref): whether waiting for this child keeps Node's loop alive.
Napi::Value RefProcess(const Napi::CallbackInfo& info) {
  pid_t pid = info[0].As<Napi::Number>().Int32Value();
  auto it = children().find(pid);
  if (it != children().end()) {
    uv_handle_t* h = reinterpret_cast<uv_handle_t*>(&it->second->poll);
    if (info[1].ToBoolean().Value()) uv_ref(h);
    else uv_unref(h);
  }
  return info.Env().Undefined();
}

// pipePair() -> [read, write], both close-on-exec (a zone's piped stdio, the
// shim's config and filter).
Napi::Value PipePair(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) return throw_errno(env, errno, "pipe2");
  Napi::Array a = Napi::Array::New(env, 2);
  a.Set(0u, Napi::Number::New(env, p[0]));
  a.Set(1u, Napi::Number::New(env, p[1]));
  return a;
}

}  // namespace

void register_spawn(Napi::Env env, Napi::Object exports) {
  exports.Set("spawnProcess", Napi::Function::New(env, SpawnProcess));
  exports.Set("signalProcess", Napi::Function::New(env, SignalProcess));
  exports.Set("refProcess", Napi::Function::New(env, RefProcess));
  exports.Set("pipePair", Napi::Function::New(env, PipePair));
}

}  // namespace lxz_addon
