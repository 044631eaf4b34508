// The I/O of one attached `docker exec`, as it happens: the exec'd process
// gets socketpairs (stdout, stderr, and stdin with -i) or, with -t, the slave
// of a host pty, which its keeper relays into the zone (as for `lxzone exec
// -t` and the portal's terminal). Its output goes to the hijacked connection
// as it comes: multiplexed without a tty, raw with one; what the client sends
// goes to its stdin until the client half-closes. Resizes (POST
// /exec/ID/resize) set the host pty's size and tell the keeper (SIGWINCH),
// which copies it into the zone's terminal.
import { closeSync, openSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { ReadStream, WriteStream } from 'node:tty';
import { native } from '../../native.js';
import { fifoPipe } from '../../zone/fifo-pipe.js';
import { startExec, type ExecOptions, type ExecTarget } from '../../zone/lifecycle/exec.js';
import type { RunningZone } from '../../zone/run.js';
import type { ZoneStore } from '../../zone/state/store.js';
import type { RawStream } from './context.js';
import { frame } from './streams.js';

/** How long output may still arrive after the process ended (a background child may hold it open). */
const DRAIN_MS = 2000;

/** A pipe as [our end, the zone's end] (fifoPipe), its FIFO in the private runtime directory. */
export function pipe(store: ZoneStore, dir: 'in' | 'out'): [number, number] {
  return fifoPipe(join(store.runtimeDir, 'docker-exec'), dir);
}

export interface ExecIo {
  zone: RunningZone;
  /** Sets the terminal's size (with -t); a no-op without one. */
  resize(cols: number, rows: number): void;
  /** Resolves with the exit code once the process ended and its output was sent. */
  done: Promise<number>;
}

const ended = (s: NodeJS.ReadableStream) => new Promise<void>((r) => s.once('end', r).once('close', r));

/**
 * What the client sends after its request, to `onData`: an upgraded
 * request's body is not read by Node, so its first `skip` bytes (the start
 * options' JSON) come before stdin and are dropped.
 */
function clientInput(input: Duplex, head: Buffer, skip: number, onData: (c: Buffer) => void, onEnd: () => void): void {
  let left = skip;
  const take = (c: Buffer) => {
    if (left > 0) {
      const n = Math.min(left, c.length);
      left -= n;
      c = c.subarray(n);
    }
    if (c.length) onData(c);
  };
  if (head.length) take(head);
  input.on('data', take);
  input.once('end', onEnd);
}

export function startExecIo(
  store: ZoneStore,
  target: ExecTarget,
  o: Omit<ExecOptions, 'stdio' | 'stdioFds' | 'input'>,
  stream: RawStream,
  /** What came with the request (an upgrade's head), and how many of its first bytes are the request's body. */
  head: Buffer,
  skip: number,
  size: { cols: number; rows: number } | undefined,
  attachStdin: boolean,
): ExecIo {
  const addon = native();
  const input: Duplex | undefined = attachStdin ? stream.input : undefined;
  if (o.tty) {
    const [master, slave] = addon.openPty(size?.cols || 80, size?.rows || 24);
    let zone: RunningZone;
    try {
      zone = startExec(store, target, { ...o, tty: true, stdio: 'fds', stdioFds: [slave, slave, slave] });
    } catch (e) {
      addon.closeFd(master);
      throw e;
    } finally {
      addon.closeFd(slave); // the keeper holds its copies: the master sees EIO once they close
    }
    const out = new ReadStream(master);
    out.on('data', (b: Buffer) => stream.write(b));
    out.on('error', () => undefined); // EIO: the last slave closed, the exec ended
    const toZone = new WriteStream(master);
    toZone.on('error', () => undefined); // the exec ended while the client typed
    // With a tty the end of the client's input is no end of file: a terminal has none (^D is a byte).
    if (input) clientInput(input, head, skip, (c) => toZone.write(c), () => undefined);
    const done = (async () => {
      const r = await zone.wait().catch(() => ({ exitCode: 126 }));
      await Promise.race([ended(out), new Promise((res) => setTimeout(res, DRAIN_MS))]);
      out.destroy();
      return r.exitCode;
    })();
    return {
      zone,
      done,
      resize: (cols, rows) => {
        try {
          addon.setWindowSize(master, cols, rows);
          process.kill(zone.keeperPid, 'SIGWINCH');
        } catch {
          // The exec ended meanwhile: nothing to resize.
        }
      },
    };
  }
  // Without a tty: one pipe per stream; the zone's ends go to the keeper.
  const pairs = [attachStdin ? pipe(store, 'in') : undefined, pipe(store, 'out'), pipe(store, 'out')];
  const devnull = attachStdin ? undefined : openSync('/dev/null', 'r');
  let zone: RunningZone;
  try {
    zone = startExec(store, target, { ...o, stdio: 'fds', stdioFds: [pairs[0]?.[1] ?? (devnull as number), pairs[1]![1], pairs[2]![1]] });
  } catch (e) {
    for (const p of pairs) if (p) closeSync(p[0]);
    throw e;
  } finally {
    for (const p of pairs) if (p) closeSync(p[1]);
    if (devnull !== undefined) closeSync(devnull);
  }
  const [stdin, stdout, stderr] = pairs.map((p, i) => (p ? new Socket({ fd: p[0], readable: i > 0, writable: i === 0 }) : undefined));
  for (const s of [stdin, stdout, stderr]) s?.on('error', () => undefined); // the process went: nothing more to say to it
  stdout!.on('data', (c: Buffer) => stream.write(frame('stdout', c)));
  stderr!.on('data', (c: Buffer) => stream.write(frame('stderr', c)));
  // The client half-closes when its stdin ends: the process sees its end.
  // (A pipe has no half-close: its end is closing our side once what was written is in it.)
  if (stdin && input) clientInput(input, head, skip, (c) => stdin.write(c), () => stdin.write(Buffer.alloc(0), () => stdin.destroy()));

  const done = (async () => {
    const r = await zone.wait().catch(() => ({ exitCode: 126 }));
    await Promise.race([Promise.all([ended(stdout!), ended(stderr!)]), new Promise((res) => setTimeout(res, DRAIN_MS))]);
    for (const s of [stdin, stdout, stderr]) s?.destroy();
    return r.exitCode;
  })();
  return { zone, done, resize: () => undefined };
}
