// lxzone-shim as a child of this process, started without forking Node
// (posix_spawn in the addon, native/addon/spawn_process.cc): a fork copies
// the launcher's page tables on every zone start, which was the largest part
// of startZone() returning (issue 18). The shim's config and filter come
// through pipes that the caller fills once the shim runs (ShimProcess.fill:
// startZone claims the zone's id range and encodes its config while the
// shim's exec and start-up go on, which read them only after). Piped stdio
// is wrapped in net.Socket (non-blocking pipes on Node's loop) once the shim
// runs: only what the shim needs is made before the spawn, so that Node's
// other work overlaps the shim's start (issue 18).
import { closeSync, writeSync } from 'node:fs';
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
  /**
   * Writes the config and filter the shim waits for (its fds 3 and 4), once.
   * A shim that died meanwhile takes nothing (its exit says why).
   */
  fill(config: Uint8Array, bpf: Uint8Array): void;
  /** Closes the config and filter pipes if fill() never came (a start given up; also done once the shim is reaped). */
  dropInput(): void;
  kill(signal?: NodeJS.Signals | number): void;
  /** The event loop no longer waits for this shim to end. */
  unref(): void;
}

export interface ShimStart {
  args: string[];
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
  // Ours until fill(): the write ends of the config and filter pipes.
  const inputEnds: number[] = [];
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
    const [config, configEnd] = addon.pipePair();
    childEnds.push(config);
    inputEnds.push(configEnd);
    const [bpf, bpfEnd] = addon.pipePair();
    childEnds.push(bpf);
    inputEnds.push(bpfEnd);
    let resolveExit!: (e: ShimExit) => void;
    const exited = new Promise<ShimExit>((r) => (resolveExit = r));
    const proc: ShimProcess = {
      pid: -1,
      exitCode: null,
      signalCode: null,
      exited,
      fill(configBytes, bpfBytes) {
        const [configEnd, bpfEnd] = inputEnds.splice(0);
        if (configEnd === undefined || bpfEnd === undefined) throw new LxzoneError('the shim was given its config already');
        writeAllOrGone(configEnd, configBytes);
        writeAllOrGone(bpfEnd, bpfBytes);
      },
      dropInput() {
        for (const fd of inputEnds.splice(0)) addon.closeFd(fd);
      },
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
        proc.dropInput();
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
    for (const fd of [...ourEnds, ...inputEnds]) addon.closeFd(fd);
    throw err;
  } finally {
    for (const fd of childEnds) addon.closeFd(fd);
  }
}

/**
 * Writes `bytes` to a pipe the shim reads to its end, then closes it. The
 * pipe blocks (a config larger than its buffer waits for the shim to read);
 * a shim that is gone (EPIPE) leaves the rest unwritten.
 */
function writeAllOrGone(fd: number, bytes: Uint8Array): void {
  try {
    for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
  } catch (err) {
    if ((err as { code?: string }).code !== 'EPIPE') throw err;
  } finally {
    closeSync(fd);
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
