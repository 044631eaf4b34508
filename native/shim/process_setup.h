// Steps shared by a zone's first process and a process joining a running
// zone (exec): talking to the keeper, becoming the zone's user, the terminal,
// closing inherited fds, the filter, and exec.
#pragma once
#include <string>
#include <vector>
#include "../common/protocol.h"
#include "../common/result.h"
#include "config.h"

namespace lxz {

// Reports the failure to the keeper and exits 125.
[[noreturn]] void fail(int sync_fd, const Error& e);
void check(int sync_fd, const Status& s);
// Blocks until the keeper says `want`; a closed socket means the keeper is gone.
void await(int sync_fd, ControlType want);
bool keeper_gone(int sync_fd);

// Zone root first (full capabilities in the zone's user namespace, to trim
// them to the zone set), then the configured uid/gid.
Status become_zone_user(const ShimConfig& c);

// The zone's resource limits (config `rlimit`), set as host root before the
// zone's user namespace: a hard limit above the launcher's may be set then,
// never again from inside (CAP_SYS_RESOURCE of the host).
Status apply_rlimits(const ShimConfig& c);

// With `tty`, opens a pseudo-terminal in the zone's own devpts and hands the
// master to the keeper; returns the slave in *slave (-1 without a tty).
Status open_zone_tty(const ShimConfig& c, int sync_fd, int* slave);

// Only 0, 1, 2 and the fds in `keep` (the keeper's socket, the tty slave,
// the start gate; -1 entries ignored) survive.
void close_inherited_fds(std::vector<int> keep);

// no_new_privs + the filter; tells the keeper the listener's fd number, for
// it to take (pidfd_getfd). Returns the listener, to keep open until
// release_listener.
int install_filter_and_report(const std::string& filter, int sync_fd);

// Waits until the keeper has taken the listener, then closes ours.
void release_listener(int sync_fd, int listener);

// The common tail of entering a zone, once in its namespaces: the zone's
// user (re-arming the parent-death signal that a credential change clears),
// a fresh session keyring (session_keyring.h),
// working directory, terminal, no inherited fds, and the filter. Returns the
// tty slave (-1 without a tty). `start_gate` (start_gate.h, -1 for none) is kept open.
// Without `pending_listener` it returns once the keeper has the filter's
// listener; with it, at once, the listener left open at *pending_listener
// for the caller to release_listener() (close-on-exec: never the binary's).
int enter_zone_and_filter(const ShimConfig& c, const std::string& filter, int sync_fd, int start_gate = -1,
                          int* pending_listener = nullptr);

// The binary's argv and environment as execvp takes them (pointing into the
// config), built before a vfork: the vfork child shares its parent's heap
// until it execs, and must not allocate.
struct ExecArgs {
  std::vector<char*> argv, envp;
};
ExecArgs exec_args(const ShimConfig& c);

// The binary, with the zone's environment; on failure the errno goes to the
// keeper and the process exits 127 (not found) or 126. exec_prepared
// allocates nothing unless preserve_fds is set (place_preserved_fds), so a
// vfork child may call it when there are none.
[[noreturn]] void exec_prepared(const ShimConfig& c, ExecArgs& args, int sync_fd, int tty_slave);
[[noreturn]] void exec_binary(const ShimConfig& c, int sync_fd, int tty_slave);

}  // namespace lxz
