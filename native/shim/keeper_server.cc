#include "keeper_server.h"

#include <fcntl.h>
#include <sys/personality.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <cerrno>
#include <cstdlib>

#include "../common/text_file.h"
#include "../supervisor/handlers/handler.h"
#include "../supervisor/zone_proc.h"
#include "proc_write.h"

namespace lxz {
namespace {

bool exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// This process's cgroup.procs files, one per hierarchy (v2: one; v1: one
// per mounted controller set), from /proc/self/cgroup.
std::vector<std::string> own_procs_files() {
  std::vector<std::string> out;
  std::string text;
  read_text_file("/proc/self/cgroup", &text);
  for (size_t pos = 0, nl; pos < text.size(); pos = nl + 1) {
    nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(pos, nl - pos);
    size_t a = line.find(':'), b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    if (path.find("..") != std::string::npos) continue;
    std::string root;
    if (controllers.empty()) root = exists("/sys/fs/cgroup/cgroup.controllers") ? "/sys/fs/cgroup" : "/sys/fs/cgroup/unified";
    else if (controllers.rfind("name=", 0) == 0) root = "/sys/fs/cgroup/" + controllers.substr(5);
    else root = "/sys/fs/cgroup/" + controllers;
    std::string procs = root + (path == "/" ? "" : path) + "/cgroup.procs";
    if (exists(procs)) out.push_back(procs);
  }
  return out;
}

// When the zone's init started, in CLOCK_BOOTTIME ms: its uptime's origin.
uint64_t start_boottime_ms(pid_t pid) {
  std::string stat;
  read_text_file("/proc/" + std::to_string(pid) + "/stat", &stat);
  size_t end = stat.rfind(')');
  if (end == std::string::npos) return boottime_ms();
  // Fields after the command, separated by spaces: state is field 3;
  // starttime is field 22.
  size_t pos = end + 1;
  for (int i = 3; i <= 22; i++) {
    pos = stat.find_first_not_of(" \n", pos);
    if (pos == std::string::npos) break;
    size_t stop = stat.find_first_of(" \n", pos);
    if (stop == std::string::npos) stop = stat.size();
    if (i == 22) return std::strtoull(stat.substr(pos, stop - pos).c_str(), nullptr, 10) * 1000 / static_cast<uint64_t>(sysconf(_SC_CLK_TCK));
    pos = stop;
  }
  return boottime_ms();
}

uint64_t read_u64(const std::string& path, bool* ok) {
  std::string text;
  read_text_file(path, &text);
  // The first word, as `f >> s` read it.
  size_t a = text.find_first_not_of(" \t\n"), b = a == std::string::npos ? a : text.find_first_of(" \t\n", a);
  std::string s = a == std::string::npos ? std::string() : text.substr(a, b == std::string::npos ? std::string::npos : b - a);
  *ok = !s.empty() && s[0] >= '0' && s[0] <= '9';
  return *ok ? std::strtoull(s.c_str(), nullptr, 10) : 0;
}

}  // namespace

Status KeeperServer::init(const ShimConfig& c) {
  c_ = &c;
  const ServeConfig& s = c.serve;
  LXZ_TRY(DispatchTable::parse(s.dispatch.data(), s.dispatch.size(), handler_count(), &zone_.dispatch));
  ZoneOptions& o = zone_.options;
  o.hostname = c.hostname;
  o.kernel_version = s.kernel_version;
  o.kernel_version_env = s.kernel_version_env;
  o.memory_limit = s.memory_limit;
  o.memory_usage_file = s.memory_usage_file;
  o.reboot_marker = s.reboot_marker;
  o.driver_filter = s.driver_filter;
  struct utsname host;
  if (::uname(&host) == 0) {
    o.host_release = host.release;
    o.host_version = host.version;
    o.host_machine = host.machine;
  }
  // As the supervisor decides it at attach (supervisor_thread.cc).
  constexpr unsigned long kUname26 = 0x0020000;
  long own = ::personality(0xffffffff);
  zone_.uname26_possible = !zone_.dispatch.every_abi_uses(kHandlerPersonality) || (own >= 0 && (own & kUname26));
  sizes_ = notification_sizes();
  home_procs_ = own_procs_files();
  return {};
}

// `lxzone update` may have changed the cap since the supervisor told us:
// the cgroup says what it is now.
void KeeperServer::refresh_memory_limit() {
  std::string& usage = zone_.options.memory_usage_file;
  std::string limit_file;
  if (usage.size() > 15 && usage.compare(usage.size() - 15, 15, "/memory.current") == 0)
    limit_file = usage.substr(0, usage.size() - 15) + "/memory.max";
  else if (usage.size() > 22 && usage.compare(usage.size() - 22, 22, "/memory.usage_in_bytes") == 0)
    limit_file = usage.substr(0, usage.size() - 22) + "/memory.limit_in_bytes";
  if (limit_file.empty()) return;
  bool ok = false;
  uint64_t v = read_u64(limit_file, &ok);
  zone_.options.memory_limit = ok && v < (uint64_t{1} << 60) ? v : 0;  // "max" or v1's huge number: no cap
}

void KeeperServer::note_init(pid_t init) {
  if (zone_.init_pid == init) return;
  zone_.init_pid = init;
  zone_.boot_ms = start_boottime_ms(init);
  zone_.proc_dir = open_zone_proc(init);
}

void KeeperServer::start(int listener, pid_t init) {
  if (serving() || listener < 0) return;
  zone_.listener.reset(fcntl(listener, F_DUPFD_CLOEXEC, 3));
  // The same same-CPU hand-off as the supervisor's (the flag may not be set
  // yet: a keeper can serve before any supervisor took the listener).
  (void)enable_sync_wakeup(zone_.listener.get());
  note_init(init);
  refresh_memory_limit();
  // Charged to the zone: its memory, pids and cpu caps cover our work for it.
  for (const std::string& procs : c_->cgroup_procs) (void)write_file(procs, std::to_string(getpid()));
}

void KeeperServer::stop() {
  if (!serving()) return;
  // Answer what no one else will (JS calls) before the listener goes.
  for (auto& [id, pending] : zone_.js_pending) answer_notification(pending.listener, sizes_, id, 0, ENOSYS, false);
  zone_.js_pending.clear();
  zone_.listener.reset();
  for (const std::string& procs : home_procs_) (void)write_file(procs, std::to_string(getpid()));
}

bool KeeperServer::serve_one() {
  Served s = serve_notification(zone_, sizes_, events_);
  events_.clear();  // no one to hand them to
  for (auto& [id, pending] : zone_.js_pending) answer_notification(pending.listener, sizes_, id, 0, ENOSYS, false);
  zone_.js_pending.clear();
  if (s == Served::kGone) {
    zone_.listener.reset();
    return false;
  }
  return true;
}

}  // namespace lxz
