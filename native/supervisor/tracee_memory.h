// Reading and writing a notified process's memory. Lengths are ours, never the
// tracee's beyond a fixed bound; every read is followed by a NOTIF_ID_VALID
// check before its content is acted on, and every write preceded by one.
#pragma once
#include <sys/types.h>
#include <cstddef>
#include <cstdint>
#include <string>

namespace lxz {

constexpr size_t kMaxTraceeString = 4096;

// True when the notification is still pending (the tracee has not died and its
// pid cannot have been reused).
bool notification_valid(int listener, uint64_t id);

// Copies `len` bytes to the tracee. Returns 0 or an errno (EFAULT for a bad address).
int write_tracee(int listener, uint64_t id, pid_t pid, uint64_t addr, const void* data, size_t len);

// Reads a NUL-terminated string of at most `max` bytes. Returns 0 or an errno.
int read_tracee_string(int listener, uint64_t id, pid_t pid, uint64_t addr, size_t max, std::string* out);

// Reads a small file of /proc/PID (environ, status), bounded.
std::string read_proc_file(pid_t pid, const char* name, size_t max);

}  // namespace lxz
