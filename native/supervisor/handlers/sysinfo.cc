// sysinfo(2) as the zone sees it: its memory cap and usage, its processes,
// its uptime. The 32-bit layout is the kernel's compat_sysinfo.
#include <fcntl.h>
#include <sys/sysinfo.h>
#include <unistd.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "../tracee_memory.h"
#include "../zone_proc.h"
#include "handler.h"

namespace lxz {
namespace {

struct Sysinfo64 {
  int64_t uptime;
  uint64_t loads[3];
  uint64_t totalram, freeram, sharedram, bufferram, totalswap, freeswap;
  uint16_t procs;
  uint16_t pad;
  uint32_t pad2;
  uint64_t totalhigh, freehigh;
  uint32_t mem_unit;
  char f[4];
};
static_assert(sizeof(Sysinfo64) == 112, "struct sysinfo on 64-bit");

struct Sysinfo32 {
  int32_t uptime;
  uint32_t loads[3];
  uint32_t totalram, freeram, sharedram, bufferram, totalswap, freeswap;
  uint16_t procs;
  uint16_t pad;
  uint32_t totalhigh, freehigh;
  uint32_t mem_unit;
  char f[8];
};
static_assert(sizeof(Sysinfo32) == 64, "struct compat_sysinfo");

uint64_t read_u64_file(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[64] = {};
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  return n > 0 ? std::strtoull(buf, nullptr, 10) : 0;
}

// Processes of the zone, counted in the zone's own procfs (zone_proc.h),
// opened when the zone became ready or, after a re-attach, on first use.
// At most one count per 100 ms per zone: a zone that calls sysinfo in a loop
// with many processes cannot make the thread that serves other zones spin.
uint16_t zone_processes(Zone& z) {
  uint64_t now = monotonic_ms();
  if (z.procs_counted_ms && now - z.procs_counted_ms < 100) return z.procs_count;
  if (!z.proc_dir.valid()) z.proc_dir = open_zone_proc(z.init_pid);
  unsigned n = z.proc_dir.valid() ? count_zone_processes(z.proc_dir.get(), 65535) : 1;
  z.procs_count = static_cast<uint16_t>(n);
  z.procs_counted_ms = now;
  return z.procs_count;
}

}  // namespace

Reply handle_sysinfo(Call& call) {
  Zone& z = call.zone;
  struct sysinfo host;
  ::sysinfo(&host);
  uint64_t unit = host.mem_unit ? host.mem_unit : 1;
  uint64_t total = host.totalram * unit, free_ = host.freeram * unit;
  uint64_t swap_total = host.totalswap * unit, swap_free = host.freeswap * unit;
  if (z.options.memory_limit && z.options.memory_limit < total) {
    total = z.options.memory_limit;
    uint64_t used = z.options.memory_usage_file.empty() ? 0 : read_u64_file(z.options.memory_usage_file);
    free_ = used < total ? total - used : 0;
    swap_total = swap_free = 0;
  }
  int64_t uptime = static_cast<int64_t>((boottime_ms() - z.boot_ms) / 1000);
  uint16_t procs = zone_processes(z);

  int err;
  pid_t pid = static_cast<pid_t>(call.req.pid);
  if (call.is_32bit()) {
    Sysinfo32 s = {};
    // Scale into 32 bits the way the kernel's compat code does.
    uint32_t shift = 0;
    while ((total >> shift) > UINT32_MAX || (swap_total >> shift) > UINT32_MAX) shift++;
    s.uptime = static_cast<int32_t>(uptime);
    for (int i = 0; i < 3; i++) s.loads[i] = static_cast<uint32_t>(host.loads[i]);
    s.totalram = static_cast<uint32_t>(total >> shift);
    s.freeram = static_cast<uint32_t>(free_ >> shift);
    s.totalswap = static_cast<uint32_t>(swap_total >> shift);
    s.freeswap = static_cast<uint32_t>(swap_free >> shift);
    s.procs = procs;
    s.mem_unit = 1u << shift;
    err = write_tracee(call.listener, call.req.id, pid, call.req.data.args[0], &s, sizeof s);
  } else {
    Sysinfo64 s = {};
    s.uptime = uptime;
    for (int i = 0; i < 3; i++) s.loads[i] = host.loads[i];
    s.totalram = total;
    s.freeram = free_;
    s.totalswap = swap_total;
    s.freeswap = swap_free;
    s.procs = procs;
    s.mem_unit = 1;
    err = write_tracee(call.listener, call.req.id, pid, call.req.data.args[0], &s, sizeof s);
  }
  if (err) return Reply::error_of(err == ENOENT ? ENOENT : EFAULT);
  return Reply::value_of(0);
}

}  // namespace lxz
