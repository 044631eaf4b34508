// posix_spawn attributes for a child that starts with clean signals: every
// disposition at its default and none blocked. Our own (Node ignores SIGPIPE;
// lxzone-front blocks the signals it relays) would otherwise reach the child:
// an ignored signal stays ignored across execve, a blocked one stays blocked.
// For the addon's spawnProcess and lxzone-front's start of lxzone-shim.
#pragma once
#include <spawn.h>

namespace lxz {

// Initializes `attr` (the caller destroys it) with POSIX_SPAWN_SETSIGDEF for
// every signal, POSIX_SPAWN_SETSIGMASK with an empty mask, and `extra_flags`
// (POSIX_SPAWN_SETSID, …) besides.
void init_spawnattr_clean_signals(posix_spawnattr_t* attr, short extra_flags = 0);

}  // namespace lxz
