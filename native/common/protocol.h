// The keeper <-> supervisor control protocol, over a SOCK_SEQPACKET socket:
// one fixed header per message, optional text after it, and SCM_RIGHTS for
// the seccomp listener fd. Message boundaries are kept by the socket type.
#pragma once
#include <cstdint>

namespace lxz {

enum class ControlType : uint32_t {
  // keeper -> supervisor
  kCreated = 1,      // a = zone init's host pid; the keeper waits for kContinue when the config asked to hold
  kReady = 2,        // a = zone init's host pid; carries the listener fd
  kStarted = 3,      // the binary was exec'd
  kExecFailed = 4,   // a = errno of execve
  kSetupFailed = 5,  // a = errno, text = the step that failed
  kExited = 6,       // a = exit code as a shell reports it, b = raw wait status
  // supervisor -> keeper
  kContinue = 100,   // go on after kCreated (cgroups and network are in place)
  kSignal = 101,     // a = signal to send to the zone's init
  kAbort = 102,      // setup failed host-side: kill the zone and exit
  // keeper <-> zone process (inside the shim only)
  kIdMapRequest = 200,  // the zone process has its user namespace: write its id maps
  kIdMapDone = 201,
  kTtyMaster = 202,     // carries the master of the zone's pseudo-terminal
  kFilterComing = 203,  // a = the fd number the listener will have: the keeper takes it (pidfd_getfd)
  kListenerTaken = 204, // the keeper holds the listener: the zone process may close its own
};

struct ControlHeader {
  ControlType type;
  int32_t a;
  int32_t b;
  int32_t reserved;
};

constexpr size_t kControlTextMax = 1024;
constexpr size_t kControlMessageMax = sizeof(ControlHeader) + kControlTextMax;

}  // namespace lxz
