#include "time_namespace.h"

#include <fcntl.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "proc_write.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace lxz {

Status new_time_namespace_for_children() {
  if (unshare(CLONE_NEWTIME) < 0) return sys_error("unshare time namespace");
  struct timespec now;
  clock_gettime(CLOCK_BOOTTIME, &now);
  // The offset is -now, written as whole seconds (rounded down) plus a
  // non-negative nanosecond part, as timens_offsets wants it.
  int64_t off_ns = -(static_cast<int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec);
  int64_t sec = off_ns / 1000000000, nsec = off_ns % 1000000000;
  if (nsec < 0) {
    sec -= 1;
    nsec += 1000000000;
  }
  // Written before any process is in the namespace: it is refused after.
  return write_file("/proc/self/timens_offsets", "boottime " + std::to_string(sec) + " " + std::to_string(nsec) + "\n");
}

}  // namespace lxz
