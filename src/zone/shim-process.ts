// lxzone-shim as a child of this process, started without forking Node
// (posix_spawn in the addon, native/addon/spawn_process.cc): a fork copies
// the launcher's page tables on every zone start, which was the largest part
// of startZone() returning (issue 18). The shim's config and filter are
// sealed memfds (no pipe for Node to fill while the shim waits); piped stdio
// is wrapped in net.Socket (non-blocking pipes on Node's loop) once the shim
// runs: only what the shim needs is made before the spawn, so that Node's
// other work overlaps the shim's start (issue 18).
import { Socket } from 'node:net';
import { constants } from 'node:os';
import { LxzoneError } from '../errors.js';
import { native, shimPath } from '../native.js';

export interface ShimExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ShimProcess {
  pid: number;
  /** Set once the shim is reaped. */
  exitCode: number | null;
  signalCode: NodeJS.Signals | null;
  /** stdio 'pipe': the zone's stdin (ours to write and end), stdout, stderr. */
  stdin?: Socket;
  stdout?: Socket;
  stderr?: Socket;
  exited: Promise<ShimExit>;
  kill(signal?: NodeJS.Signals | number): void;
  /** The event loop no longer waits for this shim to end. */
  unref(): void;
}

export interface ShimStart {
  args: string[];
  /** Bytes the shim reads from fd 3 and fd 4 (its config and its filter). */
  config: Uint8Array;
  bpf: Uint8Array;
  /** The shim's fd 5 (its control socket's end). */
  control: number;
  /** 'pipe': new pipes; 'inherit': ours; or three fds of the caller. */
  stdio: 'pipe' | 'inherit' | readonly [number, number, number];
  /** The shim's fds from 6 on. */
  preserveFds?: readonly number[];
  detached?: boolean;
}

const signalNames = new Map<number, NodeJS.Signals>(
  Object.entries(constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]),
);

function signalNumber(sig: NodeJS.Signals | number): number {
  if (typeof sig === 'number') return sig;
  const n = constants.signals[sig];
  if (n === undefined) throw new LxzoneError(`unknown signal ${sig}`, { code: 'EINVAL' });
  return n;
}

export function spawnShim(o: ShimStart): ShimProcess {
  const addon = native();
  const path = shimPath();
  // Fds opened here for the child alone, closed once it has its copies.
  const childEnds: number[] = [];
  // Our ends of piped stdio (stdin's write end, stdout's and stderr's read
  // ends): wrapped in sockets only once the shim is running, so that making
  // them (three net.Sockets: ~0.7 ms between interleaved starts) overlaps
  // the shim's start instead of delaying its spawn (issue 18).
  let ourEnds: number[] = [];
  let std: number[];
  try {
    if (o.stdio === 'pipe') {
      const [inR, inW] = addon.pipePair();
      childEnds.push(inR);
      ourEnds.push(inW);
      const [outR, outW] = addon.pipePair();
      childEnds.push(outW);
      ourEnds.push(outR);
      const [errR, errW] = addon.pipePair();
      childEnds.push(errW);
      ourEnds.push(errR);
      std = [inR, outW, errW];
    } else if (o.stdio === 'inherit') {
      std = [0, 1, 2];
    } else {
      std = [...o.stdio];
    }
    const config = addon.memfdWith('lxzone-config', o.config);
    childEnds.push(config);
    const bpf = addon.memfdWith('lxzone-filter', o.bpf);
    childEnds.push(bpf);
    let resolveExit!: (e: ShimExit) => void;
    const exited = new Promise<ShimExit>((r) => (resolveExit = r));
    const proc: ShimProcess = {
      pid: -1,
      exitCode: null,
      signalCode: null,
      exited,
      kill(signal: NodeJS.Signals | number = 'SIGTERM') {
        if (proc.exitCode === null && proc.signalCode === null) addon.signalProcess(proc.pid, signalNumber(signal));
      },
      unref() {
        addon.refProcess(proc.pid, false);
      },
    };
    const fds = [...std, config, bpf, o.control, ...(o.preserveFds ?? [])];
    try {
      proc.pid = addon.spawnProcess(path, [path, ...o.args], fds, o.detached ?? false, (code, signal) => {
        proc.exitCode = code;
        proc.signalCode = code === null ? (signalNames.get(signal) ?? 'SIGKILL') : null;
        resolveExit({ code: proc.exitCode, signal: proc.signalCode });
      });
    } catch (err) {
      throw new LxzoneError(`cannot start lxzone-shim: ${(err as Error).message}`, { exitCode: 125, cause: err });
    }
    if (ourEnds.length) {
      const ends = ourEnds;
      ourEnds = []; // pipeSockets owns them: wrapped, or closed if it fails
      try {
        Object.assign(proc, pipeSockets(ends));
      } catch (err) {
        proc.kill('SIGKILL'); // reaped by its pidfd's watch
        throw err;
      }
    }
    return proc;
  } catch (err) {
    for (const fd of ourEnds) addon.closeFd(fd);
    throw err;
  } finally {
    for (const fd of childEnds) addon.closeFd(fd);
  }
}

/**
 * Non-blocking sockets on Node's loop for our ends of the zone's stdio pipes
 * ([stdin's write end, stdout's and stderr's read ends]); the fds are the
 * sockets' from here on, or closed if one cannot be made.
 */
function pipeSockets([inW, outR, errR]: number[]): Pick<ShimProcess, 'stdin' | 'stdout' | 'stderr'> {
  const made: Socket[] = [];
  try {
    made.push(new Socket({ fd: inW, readable: false, writable: true }));
    made.push(new Socket({ fd: outR, readable: true, writable: false }));
    made.push(new Socket({ fd: errR, readable: true, writable: false }));
  } catch (err) {
    for (const s of made) s.destroy();
    for (const fd of [inW, outR, errR].slice(made.length)) native().closeFd(fd);
    throw err;
  }
  const [stdin, stdout, stderr] = made;
  return { stdin, stdout, stderr };
}
