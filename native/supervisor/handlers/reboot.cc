// reboot(2) in a zone: RESTART restarts the zone, HALT and POWER_OFF stop it,
// exactly as Linux treats reboot() in a child pid namespace; the host is
// never touched. Only the zone's root may do it; other commands get EINVAL.
#include <signal.h>
#include <cerrno>
#include <cstdlib>

#include "../tracee_memory.h"
#include "handler.h"

namespace lxz {
namespace {

constexpr uint32_t kMagic1 = 0xfee1dead;
constexpr uint32_t kMagic2[] = {672274793, 85072278, 369367448, 537993216};
constexpr uint32_t kRestart = 0x01234567, kRestart2 = 0xA1B2C3D4, kHalt = 0xCDEF0123, kPowerOff = 0x4321FEDC;

// The caller's effective uid as the host sees it.
long host_euid(const Call& call) {
  std::string status = read_proc_file(call.listener, call.req.id, static_cast<pid_t>(call.req.pid), "status", 8192);
  size_t pos = status.find("\nUid:");
  if (pos == std::string::npos) return -1;
  char* end;
  std::strtol(status.c_str() + pos + 5, &end, 10);  // real
  return std::strtol(end, nullptr, 10);              // effective
}

}  // namespace

Reply handle_reboot(Call& call) {
  const auto& a = call.req.data.args;
  if (host_euid(call) != static_cast<long>(call.zone.options.root_uid)) return Reply::error_of(EPERM);
  uint32_t magic1 = static_cast<uint32_t>(a[0]), magic2 = static_cast<uint32_t>(a[1]);
  bool magic2_ok = false;
  for (uint32_t m : kMagic2) magic2_ok |= magic2 == m;
  if (magic1 != kMagic1 || !magic2_ok) return Reply::error_of(EINVAL);

  uint32_t cmd = static_cast<uint32_t>(a[2]);
  bool restart = cmd == kRestart || cmd == kRestart2;
  if (!restart && cmd != kHalt && cmd != kPowerOff) return Reply::error_of(EINVAL);
  if (!notification_valid(call.listener, call.req.id)) return Reply::error_of(ENOENT);

  Event e = call.event(EventType::kReboot);
  e.a = restart ? 1 : 0;
  call.events.push_back(e);
  // The zone's init dies, and with it the zone's pid namespace and the caller;
  // the keeper reports the exit and the lifecycle layer restarts or stops the
  // zone. Like Linux, a granted reboot never returns: the call is left
  // unanswered and ends with its process.
  if (call.zone.init_pid > 0) kill(call.zone.init_pid, SIGKILL);
  return Reply::none();
}

}  // namespace lxz
