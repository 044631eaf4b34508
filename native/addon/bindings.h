// The addon's binding areas, each a file of its own that sets its functions
// on the module's exports; addon.cc calls them all once (spawn_process.h
// likewise for spawnProcess and its kin).
#pragma once
#include <napi.h>

namespace lxz_addon {

// setErrorClass (js_errors.cc).
void register_errors(Napi::Env env, Napi::Object exports);
// Supervisor, handlerNames (supervisor_wrap.cc).
void register_supervisor(Napi::Env env, Napi::Object exports);
// socketPair, connectKeeper, peerCredentials, sendConsole, closeFd (unix_sockets.cc).
void register_sockets(Napi::Env env, Napi::Object exports);
// openPty, setWindowSize (terminals.cc).
void register_terminals(Napi::Env env, Napi::Object exports);
// overlayWhiteout, overlayOpaque, overlayIsOpaque, makeFifo, removeBeneath (files.cc).
void register_files(Napi::Env env, Napi::Object exports);

}  // namespace lxz_addon
