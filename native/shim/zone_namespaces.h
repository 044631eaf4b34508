// A zone's user namespace and the namespaces it owns (network, UTS, IPC),
// made before the zone's first process exists: the LXC unprivileged-container
// model, where the zone's root is root in every namespace of its own. The
// keeper makes them and hands the zone process their fds; the zone process
// joins network, UTS and IPC at once (so the supervisor plugs its network
// into the right namespace), builds the zone's mounts as the host's root
// (or, rootless, the caller's namespace's), and enters the user namespace
// last, with a fresh mount namespace: every mount it built is locked there.
#pragma once
#include "../common/fd.h"
#include "../common/result.h"
#include "config.h"

namespace lxz {

struct ZoneNamespaces {
  Fd user;
  Fd net;
  Fd uts;
  Fd ipc;
  // The process that made them, told to exit but not waited for: its exit
  // runs while the zone process is cloned; the keeper reaps it later
  // (namespace_holder.h).
  pid_t holder = -1;
};

// Keeper side, before the zone process is cloned: a short-lived process
// (sharing the keeper's memory: no fork's copy-on-write) is
// born in a new user namespace with new network, UTS and IPC namespaces (so
// they are owned by it; the user namespace itself is owned by the zone's
// first host id, so what the zone makes is charged to the zone, not to host
// root), its id maps are written (root: the zone's range of
// host ids; rootless: root of the caller's namespace), its namespaces are
// opened and it is told to exit (not waited for: see namespace_holder.h).
Status make_zone_namespaces(const ShimConfig& c, ZoneNamespaces* out);

// Zone process side, first thing: into the zone's network, UTS and IPC
// namespaces (still with the privileges it has outside the zone's user
// namespace).
Status join_owned_namespaces(const ZoneNamespaces& ns);

// Zone process side, once its mounts are built: into the zone's user
// namespace, then a mount namespace of its own (owned by the zone's user
// namespace, so the mounts copied into it are locked) and a cgroup namespace
// (rooted at the zone's cgroup, owned by the zone's user namespace).
Status enter_zone_user_namespace(const ZoneNamespaces& ns);

}  // namespace lxz
