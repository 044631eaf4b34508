// lxzone-shim as a child of this process, started without forking Node
// (posix_spawn in the addon, native/addon/spawn_process.cc): a fork copies
// the launcher's page tables on every zone start, which was the largest part
// of startZone() returning (issue 18). The shim's config and filter are
// sealed memfds (no pipe for Node to fill while the shim waits); piped stdio
// is wrapped in net.Socket (non-blocking pipes on Node's loop).
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
  let stdin: Socket | undefined;
  let stdout: Socket | undefined;
  let stderr: Socket | undefined;
  let std: number[];
  try {
    if (o.stdio === 'pipe') {
      const [inR, inW] = addon.pipePair();
      childEnds.push(inR);
      stdin = new Socket({ fd: inW, readable: false, writable: true });
      const [outR, outW] = addon.pipePair();
      childEnds.push(outW);
      stdout = new Socket({ fd: outR, readable: true, writable: false });
      const [errR, errW] = addon.pipePair();
      childEnds.push(errW);
      stderr = new Socket({ fd: errR, readable: true, writable: false });
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
      stdin,
      stdout,
      stderr,
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
    return proc;
  } catch (err) {
    for (const s of [stdin, stdout, stderr]) s?.destroy();
    throw err;
  } finally {
    for (const fd of childEnds) addon.closeFd(fd);
  }
}
