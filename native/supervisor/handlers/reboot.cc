// reboot(2) in a zone: RESTART restarts the zone, HALT and POWER_OFF stop it,
// exactly as Linux treats reboot() in a child pid namespace; the host is
// never touched. Only a caller with CAP_SYS_BOOT in the zone may do it;
// other commands get EINVAL.
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <unistd.h>
#include <cstdio>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "../tracee_memory.h"
#include "handler.h"
#include "zone_caps.h"

namespace lxz {
namespace {

constexpr uint32_t kMagic1 = 0xfee1dead;
constexpr uint32_t kMagic2[] = {672274793, 85072278, 369367448, 537993216};
constexpr uint32_t kRestart = 0x01234567, kRestart2 = 0xA1B2C3D4, kHalt = 0xCDEF0123, kPowerOff = 0x4321FEDC;

// What Linux asks of reboot() in a pid namespace: CAP_SYS_BOOT in the user
// namespace that owns it, which for us is the zone's own. The zone's root
// has the capability (the shim keeps it: reboot never reaches the kernel
// and kexec checks the host's namespace, so it grants nothing there); a
// root that dropped it, a non-root user, or a process in a user namespace
// nested in the zone (all capabilities, but there) has not.
bool may_reboot_zone(const Call& call) { return caller_has_zone_capability(call, CAP_SYS_BOOT); }

void write_marker(const std::string& path, const char* what) {
  if (path.empty()) return;
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return;
  (void)!write(fd, what, std::strlen(what));
  close(fd);
}

}  // namespace

Reply handle_reboot(Call& call) {
  const auto& a = call.req.data.args;
  if (!may_reboot_zone(call)) return Reply::error_of(EPERM);
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
  // The event reaches whoever serves this caller: for a process exec'd into
  // the zone, maybe not the daemon that keeps the zone. The marker, written
  // before the zone ends, tells that daemon why it ended.
  write_marker(call.zone.options.reboot_marker, restart ? "restart\n" : "halt\n");
  // The zone's init dies, and with it the zone's pid namespace and the caller;
  // the keeper reports the exit and the lifecycle layer restarts or stops the
  // zone. Like Linux, a granted reboot never returns: the call is left
  // unanswered and ends with its process.
  if (call.zone.init_pid > 0) kill(call.zone.init_pid, SIGKILL);
  return Reply::none();
}

}  // namespace lxz
