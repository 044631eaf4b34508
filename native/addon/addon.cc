// node-addon-api bindings: thin, one file a binding area (bindings.h), all
// registered here. Errors from native calls become JS errors only at this
// edge: instances of lxzone's own error class (src/errors.ts), which the TS
// side hands over once with setErrorClass (better-sqlite3's way), carrying
// errno and the failed call (js_errors.cc). A wrong argument is a
// programmer's error: TypeError. The Supervisor class (supervisor_wrap.cc)
// wraps the native supervisor; its events arrive in JS as arrays through one
// thread-safe function.
#include <napi.h>

#include "bindings.h"
#include "spawn_process.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  lxz_addon::register_errors(env, exports);
  lxz_addon::register_supervisor(env, exports);
  lxz_addon::register_sockets(env, exports);
  lxz_addon::register_terminals(env, exports);
  lxz_addon::register_files(env, exports);
  lxz_addon::register_spawn(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(lxzone, Init)
