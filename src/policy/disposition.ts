// Disposition strings ("host", "emulate:uname", "errno:EPERM", "kill",
// "trace") and the seccomp action each one compiles to.
import { errnoValue } from '../errors.js';
import { isHandlerName, type HandlerName } from './handlers.js';
import {
  SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_USER_NOTIF,
} from './bpf.js';

export type ParsedDisposition =
  | { kind: 'host' }
  | { kind: 'kill' }
  | { kind: 'trace' }
  | { kind: 'emulate'; handler: HandlerName }
  | { kind: 'errno'; name: string; errno: number };

export function parseDisposition(s: string): ParsedDisposition | { error: string } {
  if (s === 'host' || s === 'kill' || s === 'trace') return { kind: s };
  if (s.startsWith('emulate:')) {
    const h = s.slice('emulate:'.length);
    if (h === 'trace') return { error: 'use the disposition "trace", not "emulate:trace"' };
    if (!isHandlerName(h)) return { error: `unknown handler "${h}" (handlers are listed in src/policy/handlers.ts)` };
    return { kind: 'emulate', handler: h };
  }
  if (s.startsWith('errno:')) {
    const name = s.slice('errno:'.length);
    const errno = errnoValue(name);
    if (errno === undefined || errno <= 0 || errno > 4095) return { error: `unknown errno "${name}"` };
    return { kind: 'errno', name, errno };
  }
  return { error: `unknown disposition "${s}" (host, emulate:<handler>, errno:<NAME>, kill, trace)` };
}

/** Parses a disposition already checked by the rules checker. */
export function mustParse(s: string): ParsedDisposition {
  const d = parseDisposition(s);
  if ('error' in d) throw new Error(`internal: unchecked disposition ${s}: ${d.error}`);
  return d;
}

/** True when the supervisor sees the call (USER_NOTIF). */
export function isNotified(d: ParsedDisposition): boolean {
  return d.kind === 'emulate' || d.kind === 'trace';
}

/** The handler the dispatch table names for a notified disposition. */
export function notifyHandler(d: ParsedDisposition): HandlerName | undefined {
  if (d.kind === 'emulate') return d.handler;
  if (d.kind === 'trace') return 'trace';
  return undefined;
}

export function seccompAction(d: ParsedDisposition): number {
  switch (d.kind) {
    case 'host': return SECCOMP_RET_ALLOW;
    case 'kill': return SECCOMP_RET_KILL_PROCESS;
    case 'errno': return (SECCOMP_RET_ERRNO | d.errno) >>> 0;
    case 'trace':
    case 'emulate': return SECCOMP_RET_USER_NOTIF;
  }
}
