// Every zone process (a zone's first process and each one exec'd into a
// zone) starts in a fresh, anonymous session keyring of its own, as runc
// gives each container: without it the zone would possess the session
// keyring of whoever launched it (lxzone run, the daemon, a login session)
// and with it every key there, whatever the zone's id map.
#pragma once
#include "../common/result.h"

namespace lxz {

// KEYCTL_JOIN_SESSION_KEYRING(NULL): replaces the inherited session keyring
// with a new one owned by the caller's current (zone) user. A kernel without
// keyrings (ENOSYS) has nothing to inherit: not an error.
Status join_fresh_session_keyring();

}  // namespace lxz
