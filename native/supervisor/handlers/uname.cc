// uname(2): the zone's nodename and kernel version, never the host's. A
// process may carry its own release in LXZONE_KERNEL_VERSION (read from its
// exec-time environment), as the LX brand allowed per process.
#include <sys/utsname.h>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "../tracee_memory.h"
#include "handler.h"
#include "uts_names.h"

namespace lxz {
namespace {

constexpr size_t kField = kUtsField;
struct NewUtsname {
  char sysname[kField], nodename[kField], release[kField], version[kField], machine[kField], domainname[kField];
};

void set(char* field, const char* value) {
  std::strncpy(field, value, kField - 1);
  field[kField - 1] = '\0';
}
void set(char* field, const std::string& value) { set(field, value.c_str()); }

std::string env_override(const Call& call) {
  static const char kName[] = "LXZONE_KERNEL_VERSION=";
  std::string env = read_proc_file(call.listener, call.req.id, static_cast<pid_t>(call.req.pid), "environ", 64 * 1024);
  size_t pos = 0;
  while (pos < env.size()) {
    size_t end = env.find('\0', pos);
    if (end == std::string::npos) end = env.size();
    if (env.compare(pos, sizeof kName - 1, kName) == 0) {
      std::string v = env.substr(pos + sizeof kName - 1, end - pos - (sizeof kName - 1));
      return v.size() < kField ? v : std::string();
    }
    pos = end + 1;
  }
  return {};
}

constexpr unsigned long kUname26 = 0x0020000;

// The caller's personality (/proc/PID/personality, hex), 0 when unknown.
unsigned long personality_of(const Call& call) {
  std::string text = read_proc_file(call.listener, call.req.id, static_cast<pid_t>(call.req.pid), "personality", 32);
  return text.empty() ? 0 : std::strtoul(text.c_str(), nullptr, 16);
}

// What Linux reports under the UNAME26 personality: "2.6.<60 + minor><rest>",
// computed from the zone's release as the kernel does from its own.
std::string uname26_release(const std::string& release) {
  size_t i = 0;
  int dots = 0;
  while (i < release.size()) {
    char ch = release[i];
    if (ch == '.' && ++dots >= 3) break;
    if (!(ch >= '0' && ch <= '9') && ch != '.') break;
    i++;
  }
  size_t first = release.find('.');
  unsigned minor = first == std::string::npos ? 0 : static_cast<unsigned>(std::strtoul(release.c_str() + first + 1, nullptr, 10));
  return "2.6." + std::to_string(minor + 60) + release.substr(i);
}

}  // namespace

Reply handle_uname(Call& call) {
  const ZoneOptions& o = call.zone.options;
  // Nothing of the answer is ours to change: the names are the zone's own UTS
  // namespace's (every zone has one) and the release is the host's. The
  // kernel then answers, as natively (its UNAME26 and PER_LINUX32 handling,
  // its EFAULT for a page the caller may not write): CONTINUE, no syscall of
  // ours beyond the ioctl pair, nothing written into the caller by us
  // (issue 18). No security decision is made here, so CONTINUE's TOCTOU
  // caveat (arguments re-read by the kernel) does not apply.
  if (o.kernel_version.empty() && !o.kernel_version_env) return Reply::cont();
  // Filled in place, no allocation on the common path (issue 18).
  NewUtsname u = {};
  set(u.sysname, "Linux");
  // The names the zone's UTS namespace holds now (its root may have changed
  // them); the configured name when they cannot be read.
  bool alive = false;
  if (!read_uts_names(call.listener, call.req.id, static_cast<pid_t>(call.req.pid), u.nodename, u.domainname,
                      &alive)) {
    set(u.nodename, o.hostname);
    set(u.domainname, "(none)");
  }
  set(u.release, o.kernel_version.empty() ? o.host_release : o.kernel_version);
  if (o.kernel_version_env) {
    std::string own = env_override(call);
    if (!own.empty()) set(u.release, own);
    alive = false;
  }
  if (call.zone.uname26_possible && (personality_of(call) & kUname26)) set(u.release, uname26_release(u.release));
  if (call.zone.uname26_possible) alive = false;
  set(u.version, o.host_version);
  set(u.machine, o.host_machine);
  // The UTS join proved the caller alive a moment ago; after reads of its
  // /proc files (slower, rarer) it is checked again here.
  pid_t pid = static_cast<pid_t>(call.req.pid);
  int err = alive ? write_live_tracee(pid, call.req.data.args[0], &u, sizeof u)
                  : write_tracee(call.listener, call.req.id, pid, call.req.data.args[0], &u, sizeof u);
  if (err == ENOENT) return Reply::error_of(ENOENT);  // the tracee is gone; the answer is dropped
  if (err) return Reply::error_of(EFAULT);
  return Reply::value_of(0);
}

}  // namespace lxz
