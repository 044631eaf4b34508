// Docker's errors: a JSON body {"message": ...} with the status code dockerd
// uses for the same case (the docker client prints the message as
// "Error response from daemon: <message>" and decides on the status, e.g.
// 404 on create makes `docker run` try a pull).
import { asLxzoneError } from '../../errors.js';

export class DockerError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'DockerError';
  }
}

export const notFound = (what: string) => new DockerError(404, what);
export const badRequest = (what: string) => new DockerError(400, what);
export const conflict = (what: string) => new DockerError(409, what);
export const notImplemented = (what: string) => new DockerError(501, what);

/** lxzone's error codes as Docker's statuses. */
const STATUS_BY_CODE: Record<string, number> = {
  ENOENT: 404,
  EEXIST: 409,
  EBUSY: 409,
  ESRCH: 409,
  EINVAL: 400,
  EPERM: 403,
  EACCES: 403,
  ENOSPC: 507,
};

/** Any error as (status, message); an lxzone error keeps its message, a defect becomes a 500. */
export function toDockerError(e: unknown): DockerError {
  if (e instanceof DockerError) return e;
  const lx = asLxzoneError(e);
  if (lx) {
    // Configuration errors (exit code 2) are the caller's: a bad request.
    const status = (lx.code && STATUS_BY_CODE[lx.code]) || (lx.exitCode === 2 ? 400 : 500);
    return new DockerError(status, lx.message);
  }
  return new DockerError(500, `internal error: ${(e as Error)?.message ?? String(e)}`);
}
