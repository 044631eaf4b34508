#include "capabilities.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cstdint>

namespace lxz {
namespace {

// Docker's default set less CAP_MKNOD and CAP_NET_RAW, plus CAP_SYS_BOOT and
// CAP_SYSLOG: reboot(2) and syslog(2) are emulated (the zone restarts or
// stops; the zone's own, empty log), and the capability is what marks the
// caller allowed to, as on Linux. Neither reaches anything of the host: the
// calls never get to the kernel, and every other kernel check of them (kexec,
// %pK pointers, /proc/kallsyms addresses) is against the host's user
// namespace, where the zone has no capability at all.
constexpr int kZoneCaps[] = {
    CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER, CAP_FSETID, CAP_KILL, CAP_SETGID, CAP_SETUID,
    CAP_SETPCAP, CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT, CAP_AUDIT_WRITE, CAP_SETFCAP, CAP_SYS_BOOT, CAP_SYSLOG,
};

// A system zone's init (systemd) mounts for its services (PrivateTmp and the
// like: a mount namespace of the service's own) and needs CAP_SYS_ADMIN for
// that. It holds it in the zone's user namespace only: every mount lxzone
// built is locked there (flags, masks), a new proc or sysfs is refused by the
// kernel, a cgroup mount is rooted at the zone's own cgroup (whose cap files
// stay the host's), and the host's kernel knobs check the host's namespace
// (test/80.lifecycle.system-zone tries each). LXC's unprivileged containers
// give systemd the same.
constexpr int kSystemZoneExtraCaps[] = {CAP_SYS_ADMIN};

bool kept(int cap, bool system) {
  for (int c : kZoneCaps)
    if (c == cap) return true;
  if (system)
    for (int c : kSystemZoneExtraCaps)
      if (c == cap) return true;
  return false;
}

}  // namespace

Status drop_capabilities_to_zone_set(bool system) {
  int last = CAP_LAST_CAP;
  // The running kernel may know more capabilities than our headers.
  for (int cap = 0; cap < 64; cap++) {
    if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0) {
      last = cap - 1;
      break;
    }
  }
  for (int cap = 0; cap <= last; cap++) {
    if (kept(cap, system)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) return sys_error("drop capability from the bounding set");
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) return sys_error("clear ambient capabilities");

  uint64_t mask = 0;
  for (int c : kZoneCaps) mask |= uint64_t{1} << c;
  if (system)
    for (int c : kSystemZoneExtraCaps) mask |= uint64_t{1} << c;
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {};
  data[0].effective = data[0].permitted = static_cast<uint32_t>(mask);
  data[1].effective = data[1].permitted = static_cast<uint32_t>(mask >> 32);
  if (syscall(SYS_capset, &header, data) < 0) return sys_error("capset");
  return {};
}

}  // namespace lxz
