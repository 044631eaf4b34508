// spawnProcess / signalProcess / refProcess / pipePair: starting a program
// (lxzone-shim) from Node without forking Node (see spawn_process.cc).
#pragma once
#include <napi.h>

namespace lxz_addon {

void register_spawn(Napi::Env env, Napi::Object exports);

}  // namespace lxz_addon
