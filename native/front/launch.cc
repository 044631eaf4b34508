#include "launch.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "../common/spawn_signals.h"

extern char** environ;

namespace lxz::front {
namespace {

constexpr int kFirstShimFd = 3;  // config, filter, control: the shim's 3, 4, 5
constexpr int kShimFds = 3;

Fd memfd_with(const char* name, const std::string& bytes, std::string* error) {
  Fd fd(memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd.valid()) {
    *error = std::string("cannot start lxzone-shim: memfd_create ") + name + ": " + std::strerror(errno);
    return fd;
  }
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t w = pwrite(fd.get(), bytes.data() + off, bytes.size() - off, static_cast<off_t>(off));
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      *error = std::string("cannot start lxzone-shim: write ") + name + ": " + std::strerror(errno);
      fd.reset();
      return fd;
    }
    off += static_cast<size_t>(w);
  }
  // The shim only reads it: sealed, no writer can change it afterwards.
  fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
  return fd;
}

}  // namespace

std::optional<Shim> start_shim(const std::string& path, const std::string& config, const std::string& filter, std::string* error) {
  Fd config_fd = memfd_with("lxzone-config", config, error);
  if (!config_fd.valid()) return std::nullopt;
  Fd filter_fd = memfd_with("lxzone-filter", filter, error);
  if (!filter_fd.valid()) return std::nullopt;
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
    *error = std::string("socketpair: ") + std::strerror(errno);
    return std::nullopt;
  }
  Fd ours(pair[0]), theirs(pair[1]);

  // Each fd copied close-on-exec above every target, then dup2'd onto its
  // target: a dup2 onto another number clears close-on-exec, so the shim
  // gets exactly 0-5 and none of our copies survive its execve.
  const int sources[kShimFds] = {config_fd.get(), filter_fd.get(), theirs.get()};
  std::vector<Fd> copies;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  for (int i = 0; i < kShimFds; i++) {
    Fd copy(fcntl(sources[i], F_DUPFD_CLOEXEC, kFirstShimFd + kShimFds));
    if (!copy.valid()) {
      *error = std::string("cannot start lxzone-shim: fcntl F_DUPFD_CLOEXEC: ") + std::strerror(errno);
      posix_spawn_file_actions_destroy(&actions);
      return std::nullopt;
    }
    posix_spawn_file_actions_adddup2(&actions, copy.get(), kFirstShimFd + i);
    copies.push_back(std::move(copy));
  }
  posix_spawnattr_t attr;
  init_spawnattr_clean_signals(&attr);

  std::string a0 = path, a1 = "--config-fd", a2 = "3", a3 = "--seccomp-fd", a4 = "4", a5 = "--control-fd", a6 = "5";
  char* argv[] = {a0.data(), a1.data(), a2.data(), a3.data(), a4.data(), a5.data(), a6.data(), nullptr};
  Shim shim;
  int err = posix_spawn(&shim.pid, path.c_str(), &actions, &attr, argv, environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) {
    *error = "cannot start lxzone-shim: posix_spawn " + path + ": " + std::strerror(err);
    return std::nullopt;
  }
  shim.pidfd.reset(static_cast<int>(syscall(SYS_pidfd_open, shim.pid, 0)));
  if (!shim.pidfd.valid()) {
    // Cannot happen for our own unreaped child on a kernel lxzone runs on; do not leave it unwatched.
    *error = std::string("pidfd_open: ") + std::strerror(errno);
    kill(shim.pid, SIGKILL);
    waitpid(shim.pid, nullptr, 0);
    return std::nullopt;
  }
  fcntl(shim.pidfd.get(), F_SETFD, FD_CLOEXEC);
  shim.control = std::move(ours);
  return shim;
}

}  // namespace lxz::front
