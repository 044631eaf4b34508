// Reading a notified process's memory with process_vm_readv (by pid: the
// notification is checked after every read, so what was read is acted on only
// if the tracee was alive after it, never a process that reused its pid), and
// writing it with process_vm_writev right after the tracee was proven alive.
// Both honour page protections as the kernel's copy_from_user and
// copy_to_user do. No file is opened per call (issue 18). Lengths are ours,
// never the tracee's beyond a fixed bound.
#pragma once
#include <sys/types.h>
#include <cstddef>
#include <cstdint>
#include <string>

#include "../common/fd.h"

namespace lxz {

constexpr size_t kMaxTraceeString = 4096;

// True when the notification is still pending (the tracee has not died and its
// pid cannot have been reused).
bool notification_valid(int listener, uint64_t id);

// Copies `len` bytes to the tracee. Returns 0 or an errno: EFAULT for an
// address the tracee could not write itself (unmapped, read-only, PROT_NONE),
// ENOENT when the call is no longer pending.
int write_tracee(int listener, uint64_t id, pid_t pid, uint64_t addr, const void* data, size_t len);

// The same for a caller that has just proven the tracee alive (its pid its
// own), e.g. by a successful operation on its pidfd (tracee_handles.h).
int write_live_tracee(pid_t pid, uint64_t addr, const void* data, size_t len);

// Copies `len` bytes from the tracee with process_vm_readv (page protections
// honoured, as copy_from_user does). 0, EFAULT, or ENOENT when the call is no
// longer pending (then nothing read may be acted on).
int read_tracee(int listener, uint64_t id, pid_t pid, uint64_t addr, void* data, size_t len);

// Reads a NUL-terminated string of at most `max` bytes. Returns 0 or an errno.
int read_tracee_string(int listener, uint64_t id, pid_t pid, uint64_t addr, size_t max, std::string* out);

// Opens /proc/PID/<name> (root, cwd, …) of a pending call's tracee: 0, or an
// errno (ENOENT when the call is no longer pending, so *out is not its).
int open_tracee_proc(int listener, uint64_t id, pid_t pid, const char* name, int flags, Fd* out);

// Reads a small file of /proc/PID (environ, status) of a pending call, bounded;
// empty when the call is no longer pending.
std::string read_proc_file(int listener, uint64_t id, pid_t pid, const char* name, size_t max);

}  // namespace lxz
