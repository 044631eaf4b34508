// The one typed seam to the native addon (build/Release/lxzone.node) and the
// path of lxzone-shim. Everything native goes through here.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LxzoneError } from './errors.js';
import { NATIVE_EVENT_TYPES } from './seam.generated.js';

/** Control messages the supervisor may send a zone's keeper; event types (seam/facts.json). */
export { ControlType, NATIVE_EVENT_TYPES } from './seam.generated.js';

export type NativeEventType = (typeof NATIVE_EVENT_TYPES)[number];

export interface NativeEvent {
  zone: number;
  type: NativeEventType;
  a: number;
  b: number;
  text?: string;
  pid?: number;
  nr?: number;
  abi?: string;
  args?: bigint[];
  id?: bigint;
}

export interface AttachOptions {
  dispatch: Buffer;
  hostname: string;
  kernelVersion?: string;
  /** Honour LXZONE_KERNEL_VERSION in a process's environment (run --kernel-version-env); off unless asked. */
  kernelVersionEnv?: boolean;
  memoryLimit?: number;
  memoryUsageFile?: string;
  /** A file a granted reboot(2) writes "restart" or "halt" to before the zone ends. */
  rebootMarker?: string;
  traceStringArgs?: Buffer;
  /**
   * The seccomp filter (struct sock_filter[]) installed in every FUSE driver
   * started for the zone's mounts (src/policy/driver-filter.ts); without it
   * the supervisor starts none (the mount goes on to the kernel, which refuses it).
   */
  driverFilter?: Buffer;
}

/** [abi, nr, count] */
export type CounterRow = [string, number, number];

export interface NativeCounters {
  notified: CounterRow[];
  unsupported: CounterRow[];
  handlerErrors: number;
  jsTimeouts: number;
}

export interface NativeSupervisor {
  attach(controlFd: number, options: AttachOptions): number;
  send(zone: number, type: number, a?: number): void;
  respond(zone: number, id: bigint, value: number, errno: number): void;
  updateMemory(zone: number, limit: number, usageFile?: string): void;
  counters(zone: number): NativeCounters | null;
  detach(zone: number): void;
  close(): void;
  ref(): void;
  unref(): void;
  /** How many supervisor threads serve this process's zones. */
  threadCount(): number;
}

export interface NativeAddon {
  /** `threads`: 0 or absent, one per CPU (at most 4). */
  Supervisor: new (onEvents: (events: NativeEvent[]) => void, threads?: number) => NativeSupervisor;
  socketPair(): [number, number];
  closeFd(fd: number): void;
  /** mknod(path, S_IFCHR, 0/0): an overlayfs whiteout (the image store's shared layers). */
  overlayWhiteout(path: string): void;
  /** mkfifo(path, mode), then chmod to exactly `mode` (lxzone-runc's start fifo). */
  makeFifo(path: string, mode: number): void;
  /** lsetxattr(dir, "trusted.overlay.opaque", "y") (`user`: "user.overlay.opaque", for a `userxattr` overlay): an opaque overlayfs directory. */
  overlayOpaque(path: string, user?: boolean): void;
  /** lgetxattr(dir, "trusted.overlay.opaque" or "user.overlay.opaque") is "y": the directory hides what lower layers hold there. */
  overlayIsOpaque(path: string): boolean;
  /** Removes parent/name (a tree a zone wrote) through directory fds, never through a symlink. */
  removeBeneath(parent: string, name: string): void;
  /** A host pseudo-terminal pair [master, slave], close-on-exec, with this window size. */
  openPty(cols: number, rows: number): [number, number];
  /** Sends fd (SCM_RIGHTS) with `name` as the message to a unix stream socket: runc's --console-socket. */
  sendConsole(socketPath: string, fd: number, name: string): void;
  /** TIOCSWINSZ on a terminal fd. */
  setWindowSize(fd: number, cols: number, rows: number): void;
  /** SO_PEERCRED of a connected unix socket: who is at the other end. */
  peerCredentials(fd: number): { pid: number; uid: number; gid: number };
  /** Connects to a zone keeper's re-attach socket; returns the fd. */
  connectKeeper(path: string): number;
  handlerNames(): string[];
  /**
   * posix_spawn (no fork of this process): fds[i] becomes the child's fd i
   * (-1: /dev/null); `detached`: setsid. onExit(code, signal) once it is
   * reaped (code null when a signal ended it). Returns its pid.
   */
  spawnProcess(path: string, argv: string[], fds: number[], detached: boolean, onExit: (code: number | null, signal: number) => void): number;
  /** A signal to a child of spawnProcess not yet reaped (through its pidfd); false when it is gone. */
  signalProcess(pid: number, signal: number): boolean;
  /** Whether waiting for that child keeps the event loop alive. */
  refProcess(pid: number, ref: boolean): void;
  /** pipe2(O_CLOEXEC): [read end, write end]. */
  pipePair(): [number, number];
  /** The class native failures are thrown as (errno, code, syscall); handed over once at load. */
  setErrorClass(ctor: typeof LxzoneError): void;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = join(root, 'build', 'Release');

let addon: NativeAddon | undefined;

export function native(): NativeAddon {
  if (!addon) {
    const path = join(buildDir, 'lxzone.node');
    if (!existsSync(path)) {
      throw new LxzoneError(`native addon not built (${path} is missing): run \`npm ci\` or \`npm run build:native\``);
    }
    addon = createRequire(import.meta.url)(path) as NativeAddon;
    addon.setErrorClass(LxzoneError);
  }
  return addon;
}

export function shimPath(): string {
  const path = join(buildDir, 'lxzone-shim');
  if (!existsSync(path)) {
    throw new LxzoneError(`lxzone-shim not built (${path} is missing): run \`npm ci\` or \`npm run build:native\``);
  }
  return path;
}

export const projectRoot = root;
