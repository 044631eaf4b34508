// Talking to the daemon from the CLI or the TypeScript API. If no daemon
// answers, one is started (detached, its output appended to daemon.log in the
// state directory) and waited for; two callers starting one at once is fine:
// the second daemon finds the first's lock and exits, both callers connect to
// the first.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { LxzoneError } from '../errors.js';
import { ZoneStore } from '../zone/state/store.js';
import { ensurePrivateDir } from '../zone/state/paths.js';
import { assertOwnSocket } from '../zone/state/trusted-dir.js';
import { native } from '../native.js';
import { daemonPaths, errorFromBody, LineReader, type Method, type Response } from './protocol.js';

export interface ClientOptions {
  store?: ZoneStore;
  /** Start a daemon if none answers (default true). */
  start?: boolean;
  /** How long to wait for a started daemon's socket (default 60 s: it re-attaches its zones first). */
  startTimeoutMs?: number;
  /** Environment for a started daemon (default process.env). */
  env?: NodeJS.ProcessEnv;
}

function tryConnect(path: string): Promise<Socket | undefined> {
  // The socket file must be ours before we connect, and the process that
  // answers must run as us (SO_PEERCRED): a daemon is trusted with zone
  // configs and answers that decide what we run (issue 14.12).
  assertOwnSocket(path);
  return new Promise((resolve, reject) => {
    const s = connect(path);
    s.once('connect', () => {
      s.removeAllListeners('error');
      try {
        assertPeerIsUs(s, path);
      } catch (e) {
        s.destroy();
        reject(e);
        return;
      }
      resolve(s);
    });
    s.once('error', () => resolve(undefined));
  });
}

function assertPeerIsUs(s: Socket, path: string): void {
  const fd = (s as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new LxzoneError(`cannot tell who answers on ${path} (no socket fd)`, { code: 'EPERM', where: path });
  const peer = native().peerCredentials(fd);
  const uid = process.getuid?.() ?? 0;
  if (peer.uid !== uid) {
    throw new LxzoneError(`the process answering on ${path} (pid ${peer.pid}) runs as uid ${peer.uid}, not as us (uid ${uid}); refusing to talk to it`, {
      code: 'EPERM',
      where: path,
    });
  }
}

/** The daemon's entry beside this file: main.ts under tsx (tests, development), main.js when built. */
function daemonCommand(): string[] {
  const ext = extname(fileURLToPath(import.meta.url));
  const entry = fileURLToPath(new URL(`./main${ext}`, import.meta.url));
  // tsx resolved from here, not from the caller's directory (the daemon runs in /).
  return ext === '.ts' ? [process.execPath, '--import', import.meta.resolve('tsx'), entry] : [process.execPath, entry];
}

/** Starts a daemon in the background; returns its pid. */
export function spawnDaemon(store: ZoneStore, env: NodeJS.ProcessEnv = process.env): number {
  ensurePrivateDir(store.stateDir);
  mkdirSync(store.stateDir, { recursive: true, mode: 0o700 });
  const log = openSync(daemonPaths(store).log, 'a', 0o600);
  try {
    const [cmd, ...args] = daemonCommand();
    const child = spawn(cmd!, args, {
      detached: true,
      cwd: '/', // never keep the caller's directory busy
      stdio: ['ignore', log, log],
      env: { ...env, LXZONE_STATE_DIR: store.stateDir, LXZONE_RUNTIME_DIR: store.runtimeDir },
    });
    child.unref();
    return child.pid ?? -1;
  } finally {
    closeSync(log);
  }
}

/** How long a daemon we started and that still runs is waited for at most. */
const SLOW_START_MS = 300_000;

/** Whether `pid` runs (a zombie, ended but not yet reaped by us, does not). */
function running(pid: number): boolean {
  if (pid <= 0) return false;
  try {
    return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

export class DaemonClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private closedError: Error | undefined;

  private constructor(private readonly sock: Socket) {
    sock.setEncoding('utf8');
    const reader = new LineReader((line) => {
      let r: Response;
      try {
        r = JSON.parse(line) as Response;
      } catch {
        return;
      }
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if ('error' in r) p.reject(errorFromBody(r.error));
      else p.resolve(r.result);
    });
    sock.on('data', (d: string) => reader.push(d));
    const fail = () => {
      this.closedError ??= new LxzoneError('the lxzone daemon closed the connection (see daemon.log in the state directory)', { code: 'ECONNRESET' });
      for (const p of this.pending.values()) p.reject(this.closedError);
      this.pending.clear();
    };
    sock.on('close', fail);
    sock.on('error', fail);
  }

  /** Connects to the daemon of `store`'s directories, starting one if needed. */
  static async connect(o: ClientOptions = {}): Promise<DaemonClient> {
    const store = o.store ?? new ZoneStore({ env: o.env });
    // Made (or checked) ours before anything in it is trusted.
    ensurePrivateDir(store.runtimeDir);
    const { socket } = daemonPaths(store);
    let s = await tryConnect(socket);
    if (s) return new DaemonClient(s);
    if (o.start === false) throw new LxzoneError(`no lxzone daemon is running (no answer on ${socket})`, { code: 'ECONNREFUSED' });
    const pid = spawnDaemon(store, o.env);
    const started = Date.now();
    const deadline = started + (o.startTimeoutMs ?? 60_000);
    // Past the deadline, a daemon of ours that still runs is waited for a while longer: on a slow
    // machine (a stock Debian 12 guest under qemu's emulation) its start alone takes over a minute.
    // One that ended (it lost the lock to another daemon, which should answer by then, or failed) is not.
    const lastChance = started + Math.max(o.startTimeoutMs ?? 60_000, SLOW_START_MS);
    while (Date.now() < deadline || (Date.now() < lastChance && running(pid))) {
      await sleep(50);
      s = await tryConnect(socket);
      if (s) return new DaemonClient(s);
    }
    const waited = Math.round((Date.now() - started) / 1000);
    throw new LxzoneError(`started an lxzone daemon, but it did not answer on ${socket} within ${waited} s (see ${daemonPaths(store).log})`, {
      code: 'ETIMEDOUT',
    });
  }

  call<T = unknown>(method: Method, params?: Record<string, unknown>): Promise<T> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.sock.write(`${JSON.stringify({ id, method, params })}\n`);
    });
  }

  close(): void {
    this.sock.end();
  }
}

/** One call on a fresh connection. */
export async function daemonCall<T = unknown>(method: Method, params?: Record<string, unknown>, o: ClientOptions = {}): Promise<T> {
  const c = await DaemonClient.connect(o);
  try {
    return await c.call<T>(method, params);
  } finally {
    c.close();
  }
}
