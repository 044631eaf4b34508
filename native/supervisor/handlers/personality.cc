// personality(2) setting UNAME26: the host kernel sets it (CONTINUE); the
// supervisor only notes that this zone uses it, so that uname reads a
// caller's personality from then on (and not on every call of every zone).
#include "handler.h"

namespace lxz {

Reply handle_personality(Call& call) {
  call.zone.uname26_possible = true;
  return Reply::cont();
}

}  // namespace lxz
