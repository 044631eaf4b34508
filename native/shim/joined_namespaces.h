// OCI linux.namespaces[].path (lxzone-runc): a zone that joins existing
// network, IPC and UTS namespaces instead of making its own, as a pod's
// containers join its sandbox's. Which namespaces may be joined is decided
// here, against the kernel's own answer (NS_GET_USERNS), not the caller's
// word: one owned by the zone's own user namespace (a pod whose sandbox is a
// zone: this zone enters that zone's user namespace too, with the same id
// range), or one made by the host for a container (CNI's pod network
// namespace, owned by the initial user namespace), never the host's own
// namespaces and never one owned by any other user namespace.
#pragma once
#include <sched.h>

#include <string>

#include "../common/fd.h"
#include "../common/result.h"
#include "config.h"

namespace lxz {

// The user namespace of the running zone whose init is c.join_userns_pid,
// after checking that its id maps are exactly this config's range.
Status open_pod_user_namespace(const ShimConfig& c, Fd* out);

// Opens the namespace at `path`, checks it is of `nstype` (CLONE_NEW*) and
// that it may be joined by a zone whose user namespace is `zone_user`.
Status open_joined_namespace(const std::string& path, int nstype, const Fd& zone_user, Fd* out);

}  // namespace lxz
