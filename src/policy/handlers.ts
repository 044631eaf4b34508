// The supervisor's handlers, by id. The id is the byte stored in the dispatch
// table (see native/supervisor/dispatch.h); the C++ side exports the same list
// as native.handlerNames() and a test holds the two equal.
export const HANDLERS = [
  'unsupported', // 0: ENOSYS (SIGSYS in strict profiles) + one event per (zone, abi, nr)
  'trace',       // 1: record pid, tid, abi, nr, args; then CONTINUE
  'uname',       // 2: zone nodename and kernel version
  'sysinfo',     // 3: the zone's memory, processes, uptime
  'syslog',      // 4: an empty zone-local kernel log
  'reboot',      // 5: zone restart / halt, never the host
  'js',          // 6: a handler registered from TypeScript (slow path)
  'personality', // 7: notes that the zone uses UNAME26 (uname must honour it), then CONTINUE
] as const;

export type HandlerName = (typeof HANDLERS)[number];

export function handlerId(name: HandlerName): number {
  return HANDLERS.indexOf(name);
}

export function isHandlerName(name: string): name is HandlerName {
  return (HANDLERS as readonly string[]).includes(name);
}
