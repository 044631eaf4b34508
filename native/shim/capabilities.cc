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
    // As in LXC's unprivileged containers, the capabilities whose kernel
    // checks are against the owner of the object's namespace, which for a
    // zone's network, UTS, IPC, mount and cgroup namespaces is the zone's user
    // namespace (zone_namespaces.h): CAP_SYS_ADMIN (sethostname, mounts in its
    // own mount namespaces, where every mount lxzone made is locked),
    // CAP_NET_ADMIN and CAP_NET_RAW (its own network: addresses, routes, lo,
    // its sysctls, SO_SNDBUFFORCE, raw sockets; the bridge validates every
    // source that leaves it), CAP_IPC_OWNER (its own IPC objects). Everything
    // of the host belongs to the host's user namespace, where the zone holds
    // nothing.
    CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_NET_RAW, CAP_IPC_OWNER,
};

bool kept(int cap) {
  for (int c : kZoneCaps)
    if (c == cap) return true;
  return false;
}

uint64_t zone_mask() {
  uint64_t mask = 0;
  for (int c : kZoneCaps) mask |= uint64_t{1} << c;
  return mask;
}

Status set_caps(uint64_t effective, uint64_t permitted, uint64_t inheritable) {
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2] = {};
  data[0].effective = static_cast<uint32_t>(effective);
  data[1].effective = static_cast<uint32_t>(effective >> 32);
  data[0].permitted = static_cast<uint32_t>(permitted);
  data[1].permitted = static_cast<uint32_t>(permitted >> 32);
  data[0].inheritable = static_cast<uint32_t>(inheritable);
  data[1].inheritable = static_cast<uint32_t>(inheritable >> 32);
  if (syscall(SYS_capset, &header, data) < 0) return sys_error("capset");
  return {};
}

// What `want` is granted: every set within the zone's, effective within permitted.
CapSets granted(const CapSets& want) {
  CapSets g;
  g.bounding = want.bounding & zone_mask();
  g.permitted = want.permitted & g.bounding;
  g.effective = want.effective & g.permitted;
  g.inheritable = want.inheritable & g.bounding;
  g.ambient = want.ambient & g.permitted & g.inheritable;
  return g;
}

}  // namespace

Status finish_capabilities(const CapSets& want) {
  CapSets g = granted(want);
  LXZ_TRY(set_caps(g.effective, g.permitted, g.inheritable));
  for (int cap = 0; cap < 64; cap++) {
    if (!(g.ambient & (uint64_t{1} << cap))) continue;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0) return sys_error("raise ambient capability " + std::to_string(cap));
  }
  return {};
}

Status drop_capabilities_to_zone_set(const CapSets* want) {
  int last = CAP_LAST_CAP;
  // The running kernel may know more capabilities than our headers.
  for (int cap = 0; cap < 64; cap++) {
    if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) < 0) {
      last = cap - 1;
      break;
    }
  }
  for (int cap = 0; cap <= last; cap++) {
    bool keep = want ? (granted(*want).bounding & (uint64_t{1} << cap)) != 0 : kept(cap);
    if (keep) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) return sys_error("drop capability from the bounding set");
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) return sys_error("clear ambient capabilities");
  // The zone's set for now, whatever `want` says: the switch to the zone's
  // user still needs CAP_SETUID/CAP_SETGID; finish_capabilities narrows it.
  return set_caps(zone_mask(), zone_mask(), 0);
}

}  // namespace lxz
