// The policy API: rules files → resolved decisions per syscall → the seccomp
// filter and the supervisor's dispatch table.
export { compilePolicy, compileResolved, type CompileInput, type CompiledPolicy } from './compile.js';
export { resolveProfile, checkProfile, type ResolveOptions } from './resolve.js';
export { DRIVER_PROFILE, driverFilter, driverFilterInput } from './driver-filter.js';
export { UTS_SERVER_PROFILE, utsServerFilter, utsServerFilterInput } from './uts-server-filter.js';
export { loadProfile, readProfileFile, validateProfileDoc, BUILTIN_PROFILES } from './load.js';
export { encodeDispatch, decodeDispatch, dispatchHandler, DISPATCH_MAGIC, DISPATCH_VERSION, DISPATCH_FLAG_UNSUPPORTED_SIGSYS } from './dispatch.js';
export { parseDisposition, type ParsedDisposition } from './disposition.js';
export { runFilter, checkProgram, isConstAllow, type SeccompData } from './interpret.js';
export { decodeProgram, encodeProgram, describeAction } from './bpf.js';
export { HANDLERS, handlerId, isHandlerName, type HandlerName } from './handlers.js';
export type * from './types.js';
