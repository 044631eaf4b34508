// The handler interface: one function per emulated behaviour, given the
// notification and its zone, answering with a value, an errno, CONTINUE, or
// "pending" (a TypeScript handler will answer later).
#pragma once
#include <linux/seccomp.h>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "../events.h"
#include "../zone.h"

namespace lxz {

struct Reply {
  enum Kind { kValue, kError, kContinue, kPending, kNone } kind = kValue;
  int64_t value = 0;
  int error = 0;

  static Reply value_of(int64_t v) { return {kValue, v, 0}; }
  static Reply error_of(int e) { return {kError, 0, e}; }
  static Reply cont() { return {kContinue, 0, 0}; }
  static Reply pending() { return {kPending, 0, 0}; }
  // No answer: the calling process is being killed (a granted reboot).
  static Reply none() { return {kNone, 0, 0}; }
};

struct Call {
  Zone& zone;
  int listener;
  const struct seccomp_notif& req;
  int abi;                      // index into the zone's dispatch table
  std::vector<Event>& events;   // the loop's outgoing batch

  const std::string& abi_name() const { return zone.dispatch.abi_name(abi); }
  bool is_32bit() const { return abi_name() == "i386"; }
  Event event(EventType type) const {
    Event e;
    e.zone = zone.id;
    e.type = type;
    e.pid = static_cast<int32_t>(req.pid);
    e.nr = req.data.nr;
    e.abi = abi_name();
    for (int i = 0; i < 6; i++) e.args[i] = req.data.args[i];
    e.id = req.id;
    return e;
  }
};

using HandlerFn = Reply (*)(Call&);

struct HandlerInfo {
  const char* name;
  HandlerFn fn;
};

// In id order; the same list as src/policy/handlers.ts (a test holds them equal).
const HandlerInfo* handler_table();
size_t handler_count();

Reply handle_unsupported(Call&);
Reply handle_trace(Call&);
Reply handle_uname(Call&);
Reply handle_sysinfo(Call&);
Reply handle_syslog(Call&);
Reply handle_reboot(Call&);
Reply handle_js(Call&);
Reply handle_personality(Call&);
Reply handle_sysfs(Call&);
Reply handle_ustat(Call&);
Reply handle_loop(Call&);
Reply handle_mount(Call&);
Reply handle_umount(Call&);
Reply handle_setpriority(Call&);
Reply handle_sockbuf(Call&);

// Milliseconds of CLOCK_BOOTTIME / CLOCK_MONOTONIC.
uint64_t boottime_ms();
uint64_t monotonic_ms();

}  // namespace lxz
