// --console-socket (runc's protocol): the container's terminal master is sent
// over a unix socket (SCM_RIGHTS) to whoever runs it (containerd's shim).
// lxzone's zone keeps its own pty inside the zone; the keeper relays it to a
// host pty made here, whose master is what we send (as the portal's
// terminal does). The host pty is raw: the zone's pty does the line
// discipline.
import { LxzoneError } from '../errors.js';
import { native } from '../native.js';

export interface ConsolePty {
  /** The host pty's slave: the keeper's stdin, stdout and stderr. */
  slave: number;
  /** Closes our copy of the slave once the keeper has it. */
  close(): void;
}

export function sendConsole(socket: string, size?: { width: number; height: number }): ConsolePty {
  const [master, slave] = native().openPty(size?.width ?? 80, size?.height ?? 24);
  try {
    native().sendConsole(socket, master, 'lxzone-console');
  } catch (err) {
    native().closeFd(slave);
    throw new LxzoneError(`--console-socket ${socket}: ${(err as Error).message}`, { cause: err, code: (err as NodeJS.ErrnoException).code ?? 'EIO' });
  } finally {
    native().closeFd(master);
  }
  return { slave, close: () => native().closeFd(slave) };
}
