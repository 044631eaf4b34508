// setpriority(PRIO_PROCESS, who, negative nice) on another process of a zone,
// for the zone's root (issue 21.6). `who` is a pid of the caller's pid
// namespace; the supervisor lives in the host's and must not translate it by
// hand (a pid read from /proc could be freed and reused in between). A
// short-lived child joins the caller's pid namespace, and its own child,
// born there, lets the kernel resolve `who` itself.
#pragma once

namespace lxz {

// A target outside the zone's user namespace (a host process that joined the
// zone's pid namespace): the call goes on to the kernel, which answers EACCES.
constexpr int kReniceNotInZone = -1;

// 0, an errno, or kReniceNotInZone. `pid_ns`: the caller's pid namespace;
// `zone_user_ns`: the zone's user namespace (targets in it or in a namespace
// nested in it are the zone's, over which its root holds CAP_SYS_NICE).
int renice_in_zone(int pid_ns, int zone_user_ns, int who, int nice);

}  // namespace lxz
