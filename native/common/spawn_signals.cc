#include "spawn_signals.h"

#include <signal.h>

namespace lxz {

void init_spawnattr_clean_signals(posix_spawnattr_t* attr, short extra_flags) {
  posix_spawnattr_init(attr);
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(attr, &all);
  posix_spawnattr_setsigmask(attr, &none);
  posix_spawnattr_setflags(attr, static_cast<short>(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | extra_flags));
}

}  // namespace lxz
