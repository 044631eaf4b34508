// A zone's stdout and stderr are pipes its keeper owns (native/shim/
// stdio_relay.h); the keeper writes what comes out of them to
// zones/<name>/logs/{stdout,stderr}.log (native/shim/log_file.h). The zone
// never holds an fd of a host file (ftruncate, a flood: nothing reaches the
// disk past the cap), the daemon does no log work at all (its event loop
// cannot be held up by a zone's output), and the zone's output is kept
// while no daemon runs. The cap bounds the zone's logs on disk at every
// moment: LXZONE_LOG_MAX_BYTES for the four files together, a quarter per
// file; a file about to pass its quarter is renamed to <file>.1 (replacing
// the previous copy) and a new one begun. <file>.gen counts rotations ("N r"
// while one is under way), so a reader following the log never takes bytes
// of a file that was just replaced, and knows whether the copy it finds is
// the file it was reading; after the count, "m" says <file>.1 begins with
// the end of a line whose start was in the file before it ("c": <file>
// does), so a reader who never saw that start drops the fragment rather
// than print it as a line. <file>.idx holds when each piece of output was
// taken from the zone (log-times.ts), for docker logs -t/--since/--until.
import { closeSync, constants, copyFileSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ZoneStore } from '../state/store.js';
import { readRecords, TimedLines, type TimeFilter } from './log-times.js';

export const LOG_STREAMS = ['stdout', 'stderr'] as const;
export type LogStream = (typeof LOG_STREAMS)[number];

export function logFiles(store: ZoneStore, name: string): Record<LogStream, string> {
  const dir = store.paths(name).logDir;
  return { stdout: join(dir, 'stdout.log'), stderr: join(dir, 'stderr.log') };
}

/**
 * Where the keeper writes a daemon zone's output, and how much per file:
 * the log directory is made (private) here.
 */
export function zoneLogTargets(store: ZoneStore, name: string, maxBytes: number): { stdout: string; stderr: string; fileMaxBytes: number } {
  mkdirSync(store.paths(name).logDir, { recursive: true, mode: 0o700 });
  return { ...logFiles(store, name), fileMaxBytes: Math.max(4096, Math.floor(maxBytes / 4)) };
}

/** stdin, stdout and stderr for a daemon zone's keeper (all /dev/null: the keeper opens the logs); the caller closes them once the keeper has them. */
export function keeperStdio(): [number, number, number] {
  const fd = openSync('/dev/null', constants.O_RDWR);
  return [fd, fd, fd];
}

interface Generation {
  /** How many times the file was rotated. */
  n: number;
  /** A rotation is under way: the file's content is not to be trusted. */
  rotating: boolean;
  /** <file>.1 begins with the end of a line begun in a file now gone. */
  copyBeginsMidLine: boolean;
  /** <file> begins with the end of a line begun in <file>.1. */
  fileBeginsMidLine: boolean;
}

function generation(file: string): Generation {
  try {
    const [num, flags = ''] = readFileSync(`${file}.gen`, 'utf8').trim().split(' ');
    const n = Number(num);
    return {
      n: Number.isSafeInteger(n) ? n : 0,
      rotating: flags.includes('r'),
      copyBeginsMidLine: flags.includes('m'),
      fileBeginsMidLine: flags.includes('c'),
    };
  } catch {
    return { n: 0, rotating: false, copyBeginsMidLine: false, fileBeginsMidLine: false };
  }
}

/**
 * Bytes read from where a line's start was never seen (its file was
 * rotated away or replaced before it was read): they are dropped up to
 * and including their newline, so no fragment is printed as a line.
 */
class Continuations {
  private readonly dropping: Record<LogStream, boolean> = { stdout: false, stderr: false };

  /** The next bytes of `s` read begin mid-line when `midLine`. */
  startAt(s: LogStream, midLine: boolean): void {
    this.dropping[s] = midLine;
  }

  /** `chunk`, read at `offset` of its file, without a fragment; and where what is left begins. */
  trim(s: LogStream, chunk: Buffer, offset: number): { chunk: Buffer; offset: number } {
    if (!this.dropping[s] || !chunk.length) return { chunk, offset };
    const nl = chunk.indexOf(0x0a);
    if (nl < 0) return { chunk: chunk.subarray(chunk.length), offset: offset + chunk.length };
    this.dropping[s] = false;
    return { chunk: chunk.subarray(nl + 1), offset: offset + nl + 1 };
  }
}

function writeGeneration(file: string, text: string): void {
  writeFileSync(`${file}.gen.tmp`, text);
  renameSync(`${file}.gen.tmp`, `${file}.gen`);
}

/**
 * Keeps the daemon's own log file under `maxBytes` (copy to .1, truncate,
 * as logrotate's copytruncate; zones' logs are the keepers' own work).
 */
export class LogRotator {
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly files: string[],
    private readonly maxBytes: number,
    intervalMs = 500,
  ) {
    this.timer = setInterval(() => this.check(), intervalMs);
    this.timer.unref();
  }

  check(): void {
    for (const f of this.files) {
      try {
        if (statSync(f).size <= this.maxBytes) continue;
        const n = generation(f).n;
        writeGeneration(f, `${n} r`);
        copyFileSync(f, `${f}.1.tmp`);
        renameSync(`${f}.1.tmp`, `${f}.1`);
        truncateSync(f, 0);
        writeGeneration(f, String(n + 1));
      } catch {
        // gone (destroy) or unreadable: nothing to rotate
      }
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

function readRange(file: string, from: number, to?: number): Buffer {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return Buffer.alloc(0);
  }
  try {
    const end = Math.min(to ?? Infinity, fstatSync(fd).size);
    if (end <= from) return Buffer.alloc(0);
    const buf = Buffer.alloc(end - from);
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, from + off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}


/** Last `n` lines of a buffer (all of it when n is undefined). */
function tailLines(buf: Buffer, n: number | undefined): Buffer {
  if (n === undefined) return buf;
  if (n <= 0) return Buffer.alloc(0);
  let end = buf.length;
  if (end > 0 && buf[end - 1] === 0x0a) end--;
  let count = 0;
  for (let i = end - 1; i >= 0; i--) {
    if (buf[i] === 0x0a && ++count === n) return buf.subarray(i + 1);
  }
  return buf;
}

export interface ReadLogsOptions {
  /** Only the last N lines of each stream. */
  tail?: number;
  /** Keep following until `running()` turns false (checked every poll). */
  follow?: boolean;
  running?: () => boolean;
  pollMs?: number;
  signal?: AbortSignal;
  /** Lines by the time the keeper wrote them, and that time shown (log-times.ts). */
  times?: TimeFilter;
}

/** Writes a zone's logs to `out` (stdout.log: rotated copy then current; same for stderr), optionally following. */
export async function readLogs(
  store: ZoneStore,
  name: string,
  out: Record<LogStream, (chunk: Buffer) => void>,
  o: ReadLogsOptions = {},
): Promise<void> {
  const files = logFiles(store, name);
  const pos: Record<LogStream, number> = { stdout: 0, stderr: 0 };
  const gen: Record<LogStream, number> = { stdout: 0, stderr: 0 };
  const t = o.times;
  const timed = t && (t.timestamps || t.sinceNs !== undefined || t.untilNs !== undefined) ? t : undefined;
  // Per stream: its lines by time, and how many of the current file's records were taken.
  const tl: Record<LogStream, TimedLines | undefined> = { stdout: timed && new TimedLines(timed), stderr: timed && new TimedLines(timed) };
  const nrec: Record<LogStream, number> = { stdout: 0, stderr: 0 };
  const lines = new LineKeeper(out);
  const fragments = new Continuations();
  for (const s of LOG_STREAMS) {
    let old: Buffer = Buffer.alloc(0);
    let cur: Buffer = Buffer.alloc(0);
    let oldRecs: ReturnType<typeof readRecords> = [];
    let curRecs: ReturnType<typeof readRecords> = [];
    // Read the copy and the file of one generation (retry if a rotation came between).
    for (let attempt = 0; attempt < 50; attempt++) {
      const before = generation(files[s]);
      gen[s] = before.n;
      old = existsSync(`${files[s]}.1`) ? readRange(`${files[s]}.1`, 0) : Buffer.alloc(0);
      cur = readRange(files[s], 0);
      // The records after the bytes: the keeper writes a record before its bytes, so every byte read has its record.
      if (timed) {
        oldRecs = readRecords(`${files[s]}.1.idx`);
        curRecs = readRecords(`${files[s]}.idx`);
      }
      const after = generation(files[s]);
      // The first file read may begin with the end of a line that is gone.
      fragments.startAt(s, old.length ? after.copyBeginsMidLine : after.fileBeginsMidLine);
      if (!before.rotating && !after.rotating && after.n === before.n) break;
      await sleep(20);
    }
    pos[s] = cur.length;
    const o1 = fragments.trim(s, old, 0);
    const c1 = fragments.trim(s, cur, 0);
    let both = Buffer.concat([o1.chunk, c1.chunk]);
    const st = tl[s];
    if (st) {
      st.newFile(oldRecs);
      const a = st.take(o1.chunk, o1.offset);
      st.newFile(curRecs);
      nrec[s] = curRecs.length;
      both = Buffer.concat([a, st.take(c1.chunk, c1.offset)]);
    }
    const all = tailLines(both, o.tail);
    if (o.follow) lines.add(s, all);
    else if (all.length) out[s](all);
  }
  if (!o.follow) return;
  for (;;) {
    // Following until a time (docker logs -f --until) ends once it has passed.
    const pastUntil = timed?.untilNs !== undefined && BigInt(Date.now()) * 1_000_000n > timed.untilNs;
    const stillRunning = (o.running?.() ?? true) && !pastUntil;
    for (const s of LOG_STREAMS) {
      const st = tl[s];
      const before = generation(files[s]);
      if (before.rotating) continue; // next round
      // Rotated once: what we had not read yet is at the end of the copy.
      // More than once: the copy is a later file than ours, all of it is new
      // and the end of ours is lost.
      const rotated = before.n !== gen[s];
      const skipped = rotated && before.n !== gen[s] + 1;
      const restFrom = skipped ? 0 : pos[s];
      const rest = rotated ? readRange(`${files[s]}.1`, restFrom) : undefined;
      const chunk = readRange(files[s], rotated ? 0 : pos[s]);
      const restRecs = st && rotated ? readRecords(`${files[s]}.1.idx`, skipped ? 0 : nrec[s]) : [];
      const curRecs = st ? readRecords(`${files[s]}.idx`, rotated ? 0 : nrec[s]) : [];
      const after = generation(files[s]);
      // A rotation came while we read: either read may be of another file
      // than we think. Nothing is taken; the next round reads again.
      if (after.rotating || after.n !== before.n) continue;
      if (skipped) {
        lines.lost(s);
        st?.lost();
        st?.newFile([]);
        // What is read now may begin with the end of a line begun in what was lost.
        fragments.startAt(s, rest?.length ? before.copyBeginsMidLine : before.fileBeginsMidLine);
      }
      if (rest) {
        st?.moreRecords(restRecs);
        const r = fragments.trim(s, rest, restFrom);
        lines.add(s, st ? st.take(r.chunk, r.offset) : r.chunk);
        gen[s] = before.n;
        pos[s] = 0;
        st?.newFile([]);
        nrec[s] = 0;
      }
      st?.moreRecords(curRecs);
      nrec[s] += curRecs.length;
      const c = fragments.trim(s, chunk, pos[s]);
      pos[s] += chunk.length;
      lines.add(s, st ? st.take(c.chunk, c.offset) : c.chunk);
      if (!rest?.length && !chunk.length) lines.idle(s);
    }
    if (!stillRunning || o.signal?.aborted) {
      lines.flush();
      return;
    }
    await sleep(o.pollMs ?? 200);
  }
}

/**
 * What a follower prints, a whole line at a time: a line still being
 * written waits for its end, so that when a reader falls two rotations
 * behind and the end of its file is lost, the half line it holds is dropped
 * instead of being joined to a line of a later file. A half line that stays
 * unfinished for half a second (a prompt) is printed; if data is lost after
 * it, a newline ends it first.
 */
class LineKeeper {
  private static readonly PROMPT_MS = 500;
  private readonly held: Record<LogStream, Buffer> = { stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };
  private readonly heldSince: Record<LogStream, number> = { stdout: 0, stderr: 0 };
  private readonly atLineStart: Record<LogStream, boolean> = { stdout: true, stderr: true };

  constructor(private readonly out: Record<LogStream, (chunk: Buffer) => void>) {}

  add(s: LogStream, chunk: Buffer): void {
    if (!chunk.length) return;
    const buf = this.held[s].length ? Buffer.concat([this.held[s], chunk]) : chunk;
    const end = buf.lastIndexOf(0x0a) + 1;
    this.held[s] = Buffer.from(buf.subarray(end));
    this.heldSince[s] = performance.now();
    if (end) this.emit(s, buf.subarray(0, end));
  }

  /** Nothing new came: a half line held long enough is printed as it is. */
  idle(s: LogStream, force = false): void {
    if (!this.held[s].length || (!force && performance.now() - this.heldSince[s] < LineKeeper.PROMPT_MS)) return;
    this.emit(s, this.held[s]);
    this.held[s] = Buffer.alloc(0);
  }

  /** The end of the file being read is gone: drop the half line held, end one already printed. */
  lost(s: LogStream): void {
    this.held[s] = Buffer.alloc(0);
    if (!this.atLineStart[s]) this.emit(s, Buffer.from('\n'));
  }

  flush(): void {
    for (const s of LOG_STREAMS) this.idle(s, true);
  }

  private emit(s: LogStream, buf: Buffer): void {
    this.out[s](buf);
    this.atLineStart[s] = buf[buf.length - 1] === 0x0a;
  }
}
