// What the supervisor tells TypeScript, batched: zone lifecycle, unsupported
// syscalls, trace records, reboot requests and calls for JS handlers.
#pragma once
#include <cstdint>
#include <string>

namespace lxz {

enum class EventType : uint8_t {
  kCreated,       // a = zone init's host pid (the keeper waits for continue when holding)
  kReady,         // the listener is attached
  kStarted,
  kExecFailed,    // a = errno, text = path
  kSetupFailed,   // a = errno, text = step
  kExited,        // a = exit code, b = raw status
  kClosed,        // the keeper's control socket closed: nothing more will come
  kUnsupported,   // abi, nr: first time this zone made this call
  kTrace,         // pid, abi, nr, args, text = decoded strings ("\x1f"-separated by arg index)
  kReboot,        // a = 1 restart, 0 halt
  kJsCall,        // id, pid, abi, nr, args: a TypeScript handler must answer
  kHandlerError,  // abi, nr, a = errno, text
};

struct Event {
  uint32_t zone = 0;
  EventType type = EventType::kCreated;
  int32_t a = 0;
  int32_t b = 0;
  int32_t pid = 0;
  int32_t nr = -1;
  std::string abi;
  uint64_t args[6] = {};
  uint64_t id = 0;
  std::string text;
};

}  // namespace lxz
