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
    this.exitCode = opts.exitCode ?? 1;
  }
}
