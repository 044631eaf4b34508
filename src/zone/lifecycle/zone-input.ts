// The input of a daemon zone's first process (Docker's -i and -t): the
// keeper's own stdin, which it relays into the zone (native/shim/
// stdio_relay.cc, tty_relay.cc), is a channel whose other end the daemon
// holds, so that `docker attach` / `docker run -i` can type into it. No
// host fd ever reaches the zone: the keeper copies.
// - stdin only: a pipe; ending it (the client's stdin ended, StdinOnce) is
//   end of file for the zone.
// - with a terminal: a host pty whose slave is the keeper's stdin (the keeper
//   makes it raw and copies its window size into the zone's terminal on
//   SIGWINCH, as for `lxzone run -t`); a terminal has no end of file.
// The channel lives as long as the zone's run; a daemon that dies closes it
// (the zone then sees end of file, or ^D on its terminal).
import { closeSync } from 'node:fs';
import { join } from 'node:path';
import { WriteStream } from 'node:tty';
import { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import { native } from '../../native.js';
import { fifoPipe } from '../fifo-pipe.js';

export class ZoneInput {
  private keeperPid = 0;
  private ended = false;

  private constructor(
    readonly tty: boolean,
    /** What the keeper gets as its fd 0 (closed by the caller once the keeper has it). */
    readonly keeperFd: number,
    private readonly out: Writable,
    private readonly master: number | undefined,
  ) {}

  /**
   * With a terminal, a host pty; without, a pipe (fifoPipe) from a FIFO in
   * the private runtime directory: the keeper sees end of file once our end
   * is closed.
   */
  static open(runtimeDir: string, tty: boolean, size = { cols: 80, rows: 24 }): ZoneInput {
    if (tty) {
      const [master, slave] = native().openPty(size.cols, size.rows);
      // Never read: the keeper makes the terminal raw (no echo) before the
      // zone's binary runs, and what it echoed before then is a few bytes.
      const out = new WriteStream(master);
      out.on('error', () => undefined); // the zone ended while a client typed
      return new ZoneInput(true, slave, out, master);
    }
    const [ours, theirs] = fifoPipe(join(runtimeDir, 'zone-input'), 'in');
    const out = new Socket({ fd: ours, readable: false, writable: true });
    out.on('error', () => undefined); // the zone closed its stdin
    return new ZoneInput(false, theirs, out, undefined);
  }

  /** The keeper that relays this input (for SIGWINCH). */
  started(keeperPid: number): void {
    this.keeperPid = keeperPid;
  }

  isOpen(): boolean {
    return !this.ended;
  }

  write(b: Buffer): void {
    if (!this.ended) this.out.write(b);
  }

  /** End of input (stdin only: a terminal has none). */
  end(): void {
    if (this.tty || this.ended) return;
    this.ended = true;
    this.out.end();
  }

  resize(cols: number, rows: number): void {
    if (this.master === undefined || this.ended) return;
    try {
      native().setWindowSize(this.master, cols, rows);
      if (this.keeperPid) process.kill(this.keeperPid, 'SIGWINCH');
    } catch {
      // The zone ended meanwhile: nothing to resize.
    }
  }

  /** At the zone's end (or a failed boot). */
  close(): void {
    this.ended = true;
    this.out.destroy(); // closes our end (the pty's master)
  }

  /** The keeper's copy, once it has it (or the boot failed). */
  closeKeeperFd(): void {
    try {
      closeSync(this.keeperFd);
    } catch {
      // Already closed.
    }
  }
}
