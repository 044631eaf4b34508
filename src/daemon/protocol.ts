// The daemon's protocol: JSON lines over a Unix stream socket. One request
// per line, {"id", "method", "params"}; one answer per request, {"id",
// "result"} or {"id", "error": {message, code, exitCode, where}}, in any
// order (requests on different zones run concurrently).
import { join } from 'node:path';
import { asLxzoneError, EXIT, LxzoneError } from '../errors.js';
import type { ZoneStore } from '../zone/state/store.js';

export const PROTOCOL_VERSION = 1;

export const METHODS = [
  'ping',
  'boot',
  'halt',
  'reboot',
  'destroy',
  'update',
  'refresh',
  'stats',
  'list',
  'inspect',
  'execTarget',
  'adoptExec',
  'shutdown',
] as const;
export type Method = (typeof METHODS)[number];

export interface Request {
  id: number;
  method: Method;
  params?: Record<string, unknown>;
}

export interface ErrorBody {
  message: string;
  code?: string;
  exitCode: number;
  where?: string;
}

export type Response = { id: number; result: unknown } | { id: number; error: ErrorBody };

/** Longest line either side accepts (a config with a big environment is ~1 MiB). */
export const MAX_LINE_BYTES = 8 * 1024 * 1024;

export function daemonPaths(store: ZoneStore) {
  return {
    socket: join(store.runtimeDir, 'daemon.sock'),
    lock: join(store.runtimeDir, 'daemon.lock'),
    log: join(store.stateDir, 'daemon.log'),
  };
}

export function errorBody(e: unknown): ErrorBody {
  const lx = asLxzoneError(e);
  if (lx) {
    const b: ErrorBody = { message: lx.message, exitCode: lx.exitCode };
    if (lx.code) b.code = lx.code;
    if (lx.where) b.where = lx.where;
    return b;
  }
  // A defect: the client gets what went wrong, the daemon's log (its stderr) the stack.
  const err = e as Error;
  process.stderr.write(`lxzone daemon: internal error: ${err?.stack ?? String(e)}\n`);
  return { message: `internal error in the daemon: ${err?.message ?? String(e)}`, exitCode: EXIT.zoneFailure };
}

export function errorFromBody(b: ErrorBody): LxzoneError {
  return new LxzoneError(b.message, { code: b.code, exitCode: b.exitCode, where: b.where });
}

/** Splits a stream into lines, refusing a line longer than MAX_LINE_BYTES. */
export class LineReader {
  private buf = '';
  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: string): void {
    this.buf += chunk;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      if (line.trim() !== '') this.onLine(line);
    }
    if (this.buf.length > MAX_LINE_BYTES) throw new LxzoneError(`protocol line longer than ${MAX_LINE_BYTES} bytes`);
  }
}
