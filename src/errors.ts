// The one error class of lxzone. Native failures arrive with errno, code and
// the syscall that failed; validation failures carry a `where` (file, field,
// rule) so a message can name exactly what was wrong.
import { constants } from 'node:os';

const errnoNames = new Map<number, string>(
  Object.entries(constants.errno).map(([name, value]) => [value as number, name]),
);

export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `E${errno}`;
}

export function errnoValue(name: string): number | undefined {
  const v = (constants.errno as Record<string, number>)[name];
  return typeof v === 'number' ? v : undefined;
}

export interface LxzoneErrorOptions {
  errno?: number;
  code?: string;
  syscall?: string;
  where?: string;
  exitCode?: number;
  cause?: unknown;
}

/**
 * Exit codes of the CLI (README "Exit status"): 1 a verb failed, 2 the
 * command line was wrong (an unknown option, a value out of range, a user
 * the zone does not have), 125 lxzone failed to run a zone (`run`, `exec`:
 * every other status is the zone's own).
 */
export const EXIT = { failure: 1, usage: 2, zoneFailure: 125 } as const;

export class LxzoneError extends Error {
  readonly errno?: number;
  readonly code?: string;
  readonly syscall?: string;
  readonly where?: string;
  /** The process exit code the CLI should use when this error ends a command. */
  readonly exitCode: number;

  constructor(message: string, opts: LxzoneErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'LxzoneError';
    this.errno = opts.errno;
    this.code = opts.code ?? (opts.errno !== undefined ? errnoName(opts.errno) : undefined);
    this.syscall = opts.syscall;
    this.where = opts.where;
    this.exitCode = opts.exitCode ?? EXIT.failure;
  }
}

/** A failed system call as Node reports it (fs, child_process, net): errno, code and syscall set. */
export function isSystemError(err: unknown): err is NodeJS.ErrnoException & { code: string; syscall: string } {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).code === 'string' && typeof (err as NodeJS.ErrnoException).syscall === 'string';
}

/**
 * Any error as lxzone's own: an LxzoneError as it is, a failed system call
 * with its errno, code and syscall kept (Node's message already names the
 * call, the path and the reason). Anything else is a defect of lxzone:
 * undefined, for the caller to report as an internal error.
 */
export function asLxzoneError(err: unknown, exitCode?: number): LxzoneError | undefined {
  if (err instanceof LxzoneError) return err;
  if (!isSystemError(err)) return undefined;
  const errno = typeof err.errno === 'number' ? Math.abs(err.errno) : undefined;
  return new LxzoneError(err.message, { errno, code: err.code, syscall: err.syscall, exitCode, cause: err });
}
