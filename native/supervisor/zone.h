// One zone as the supervisor serves it.
#pragma once
#include <sys/types.h>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "../common/fd.h"
#include "dispatch.h"
#include "loop_devices.h"

namespace lxz {

struct ZoneOptions {
  std::string hostname = "lxzone";
  std::string kernel_version;       // uname release; empty = the host's
  bool kernel_version_env = false;  // honour LXZONE_KERNEL_VERSION in a process's environment
  std::string host_release, host_version, host_machine;  // the host's uname, read once at attach
  uint64_t memory_limit = 0;        // bytes; 0 = the host's
  std::string memory_usage_file;    // cgroup file with the zone's usage in bytes
  std::string reboot_marker;        // file a granted reboot(2) is written to first ("restart" or "halt")
  std::vector<uint8_t> trace_string_args;  // per (abi, nr): bit i = arg i is a C string
  // The seccomp filter (struct sock_filter[]) every FUSE driver started for
  // the zone runs under (the fuse-driver profile); empty: no driver is started.
  std::vector<uint8_t> driver_filter;
};

// Counters and first-seen sets are keyed by syscall number; a zone can make
// calls with any 32-bit number, so numbers past any table share one key (-1)
// and the memory a zone can make us hold stays bounded.
constexpr int kCounterNrLimit = 4096;
inline int counter_nr(int nr) { return nr >= 0 && nr < kCounterNrLimit ? nr : -1; }

struct ZoneCounters {
  std::map<std::pair<std::string, int>, uint64_t> notified;  // (abi, nr) -> calls
  std::map<std::pair<std::string, int>, uint64_t> unsupported;
  uint64_t handler_errors = 0;
  uint64_t js_timeouts = 0;
};

struct PendingJsCall {
  int listener;
  uint64_t deadline_ms;
};

struct Zone {
  uint32_t id = 0;
  Fd control;
  Fd listener;
  // The zone's mount namespace, handed over by its keeper with kExited:
  // closed (its teardown done here) once the keeper's control socket has
  // closed, after the event is out (supervisor_thread.cc on_control).
  Fd ended_mount_ns;
  pid_t init_pid = -1;
  uint64_t boot_ms = 0;  // CLOCK_BOOTTIME at creation, for sysinfo's uptime
  Fd proc_dir;           // the zone's procfs (zone_proc.h), for sysinfo's process count
  uint16_t procs_count = 1;
  uint64_t procs_counted_ms = 0;
  DispatchTable dispatch;
  ZoneOptions options;
  std::set<std::pair<int, int64_t>> seen_unsupported;
  // Whether a process of the zone may have the UNAME26 personality: set when
  // one asks for it (the personality handler), from the start when the
  // zone's profile does not route those calls to us or the launcher has it.
  bool uname26_possible = true;
  std::map<uint64_t, PendingJsCall> js_pending;
  // Notifications in the current promotion window (supervisor_thread.cc).
  uint64_t window_ms = 0;
  uint32_t window_calls = 0;
  LoopState loops;  // the zone's /dev/loop* (handlers/loop.cc)
  // Held while a notification is dispatched, and by the supervisor thread
  // whenever it touches what handlers use (js_pending, options, init_pid):
  // a hot zone is served by its own thread (hot_server.h).
  std::mutex serve_mu;
  std::mutex counters_mu;  // counters are read from the JS thread
  ZoneCounters counters;
};

}  // namespace lxz
