#include "zone_process.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <string>

#include "../common/unix_socket.h"
#include "init_reaper.h"
#include "mounts.h"
#include "proc_write.h"
#include "process_title.h"
#include "process_setup.h"
#include "start_gate.h"

namespace lxz {
namespace {

Status bring_up_loopback() {
  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return sys_error("socket for loopback");
  struct ifreq ifr = {};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  int r = ioctl(sock, SIOCGIFFLAGS, &ifr);
  if (r == 0) {
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    r = ioctl(sock, SIOCSIFFLAGS, &ifr);
  }
  int saved = errno;
  close(sock);
  if (r < 0) return Error{saved, "bring up lo"};
  return {};
}

// Docker's defaults for a container's namespace: every port may be bound,
// and ICMP echo sockets need no CAP_NET_RAW for the zone's groups. They are
// settings of the zone's network namespace only (its root may change them).
Status set_zone_network_sysctls(const ShimConfig& c) {
  // Group ids as this process sees them now: the host's, or (rootless) those
  // of the caller's user namespace, where the zone's one group is 0.
  std::string groups = c.rootless ? std::string("0 0")
                                  : std::to_string(c.id_base) + " " + std::to_string(c.id_base + c.id_count - 1);
  LXZ_TRY(write_file("/proc/sys/net/ipv4/ip_unprivileged_port_start", "0"));
  return write_file("/proc/sys/net/ipv4/ping_group_range", groups);
}

// OCI linux.sysctl. /proc/sys resolves net/ to the opener's network
// namespace and the IPC and UTS names to its IPC and UTS namespaces, which
// this process has joined: the zone's. A host-global sysctl is not among
// the files a non-initial network namespace shows (ENOENT), and lxzone-runc
// sends only the namespaced prefixes.
// The IPC ones (kernel.msg*, sem, shm*, fs.mqueue.*) are writable only by
// the namespace's root uid, the zone's first host id: written with that euid
// (which drops our effective capabilities until we are host root again).
Status apply_sysctls(const ShimConfig& c) {
  for (const auto& [name, value] : c.sysctls) {
    std::string path = "/proc/sys/" + name;
    for (size_t i = 10; i < path.size(); i++)
      if (path[i] == '.') path[i] = '/';
    bool ipc = (name.rfind("kernel.", 0) == 0 && name != "kernel.domainname") || name.rfind("fs.mqueue.", 0) == 0;
    int dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
    if (ipc && syscall(SYS_setresuid, -1, c.id_base, -1) < 0) return sys_error("sysctl " + name + ": take the zone's root uid");
    Status s = write_file(path, value);
    if (ipc && syscall(SYS_setresuid, -1, 0, -1) < 0) _exit(125);  // cannot go on as anyone but host root
    // The euid change made us non-dumpable (our /proc files root's): as before.
    if (ipc && dumpable >= 0) prctl(PR_SET_DUMPABLE, dumpable, 0, 0, 0);
    if (!s.ok()) return Error{s.error().err, "sysctl " + name};
  }
  return {};
}

}  // namespace

void zone_process_main(const ZoneProcessArgs& args) {
  const ShimConfig& c = *args.config;
  const int sync = args.sync_fd;
  // Dies with the keeper; the zone then collapses with its pid namespace.
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);

  // A session of its own: the caller's terminal is never the zone's
  // controlling terminal (a zone gets a terminal only with tty, its own).
  setsid();
  // Into the namespaces the zone's user namespace owns, before the keeper
  // tells the supervisor where the zone is: it plugs the zone's network into
  // the network namespace of this process. Only a held zone (`hold`: its
  // cgroups and network placed between created and continue) is acted on
  // before it runs, so only then does the keeper wait for our word; without
  // it the keeper reports created at once and expects no such message.
  check(sync, join_owned_namespaces(*args.namespaces));
  if (c.hold) check(sync, send_control(sync, ControlType::kNamespacesJoined));
  await(sync, ControlType::kContinue);  // cgroups and network are in place
  // The UTS namespace began as a copy of the host's: none of its names stays.
  // A joined one (a pod's) keeps the names its maker gave it.
  if (c.join_ns_uts.empty()) {
    if (sethostname(c.hostname.data(), c.hostname.size()) < 0) fail(sync, sys_error("sethostname"));
    if (setdomainname("(none)", 6) < 0) fail(sync, sys_error("setdomainname"));
  }
  if (c.network != NetworkMode::kNone && c.join_ns_net.empty()) check(sync, bring_up_loopback());
  // Before the new mount tree: /proc/sys/net is still the host's procfs,
  // which resolves to the namespace of the process that opens it.
  check(sync, set_zone_network_sysctls(c));
  check(sync, apply_sysctls(c));
  // /sys shows the zone's network namespace (joined above), /dev/mqueue its
  // IPC namespace.
  // As host root: a hard limit above the keeper's may be set.
  check(sync, apply_rlimits(c));
  // The start fifo (lxzone-runc's create/start split) is a host path: opened
  // before the zone's mount tree hides it.
  int start_gate = -1;
  if (!c.start_fifo.empty()) check(sync, open_start_gate(c.start_fifo, &start_gate));
  check(sync, build_zone_filesystem(c));

  // The zone's user namespace comes last, with a mount namespace of its own:
  // every mount built above is now locked, its flags and masks out of reach,
  // although the zone's root holds CAP_SYS_ADMIN over this mount namespace.
  check(sync, enter_zone_user_namespace(*args.namespaces));
  if (c.system) check(sync, mount_zone_cgroup2());
  // With an init, the binary is forked before the keeper has taken the
  // filter's listener (a round trip to the keeper on every start): the
  // init holds the listener until then. The binary's notified calls, if it
  // makes any first, wait in the kernel for the supervisor as they would.
  int listener = -1;
  int tty_slave = enter_zone_and_filter(c, *args.filter, sync, start_gate, c.init ? &listener : nullptr);
  // Created: built and filtered (its listener with the keeper, or being
  // taken). The binary waits for `start` (its keeper answers notified calls
  // meanwhile, if asked to).
  if (start_gate >= 0) check(sync, await_start(start_gate));

  if (!c.init) exec_binary(c, sync, tty_slave);
  // Renamed once the zone is built, before its binary runs (and so before
  // the keeper can learn that the zone runs): a join waits for this name
  // (check_zone_built in keeper.cc), and `ps` in the zone shows it.
  set_process_title("lxzone-init");
  // vfork: the binary's process shares this one's memory until its exec, so
  // nothing is copied (no page tables, no copy-on-write faults: ~10 us each
  // on a VM) and its exec has no copy to tear down. This process waits until
  // then, as it would anyway. The child makes system calls on its own stack
  // and file table and allocates nothing (exec_prepared), unless fds are
  // preserved: that rarer path forks as before.
  ExecArgs exec = exec_args(c);
  pid_t child = c.preserve_fds.empty() ? vfork() : fork();
  if (child < 0) fail(sync, sys_error("fork the zone's first process"));
  if (child == 0) exec_prepared(c, exec, sync, tty_slave);  // the listener is close-on-exec
  release_listener(sync, listener);
  close(sync);
  for (int fd : c.preserve_fds) close(fd);  // the binary's alone
  if (tty_slave >= 0) close(tty_slave);
  run_init_reaper(child, c.rootless);
}

}  // namespace lxz
