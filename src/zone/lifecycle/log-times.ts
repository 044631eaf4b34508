// When each line of a zone's log was written, from the index its keeper
// keeps beside the file (<file>.idx; native/shim/log_file.h): 16-byte
// records, the offset in the file where a piece of output begins and the
// time the keeper took it from the zone (CLOCK_REALTIME, ns). A line's time
// is the record of the piece its first byte came in, as dockerd stamps a
// line when its copier reads it. Times are never made up at read time: a
// line written before the keeper kept an index (a log older than this
// format) has time 0, which `--since` leaves out and `-t` prints as
// 0001-01-01T00:00:00.000000000Z, dockerd's zero time.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { LxzoneError } from '../../errors.js';

const RECORD_BYTES = 16;

export interface TimeRecord {
  offset: number;
  ns: bigint;
}

/** The records of `<file>.idx` from record number `from` on (a torn last record is left for later). */
export function readRecords(idxFile: string, from = 0): TimeRecord[] {
  let fd: number;
  try {
    fd = openSync(idxFile, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return [];
  }
  try {
    const size = fstatSync(fd).size;
    const count = Math.floor(size / RECORD_BYTES) - from;
    if (count <= 0) return [];
    const buf = Buffer.alloc(count * RECORD_BYTES);
    let off = 0;
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, from * RECORD_BYTES + off);
      if (n === 0) break;
      off += n;
    }
    const out: TimeRecord[] = [];
    for (let i = 0; i + RECORD_BYTES <= off; i += RECORD_BYTES) {
      out.push({ offset: Number(buf.readBigUInt64LE(i)), ns: buf.readBigUInt64LE(i + 8) });
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

/** Docker's RFC3339NanoFixed: 2026-12-03T22:20:24.123456789Z (nine digits always). */
export function rfc3339Nano(ns: bigint): string {
  if (ns <= 0n) return '0001-01-01T00:00:00.000000000Z';
  const ms = Number(ns / 1_000_000n);
  const iso = new Date(ms).toISOString(); // 2026-12-03T22:20:24.123Z
  return `${iso.slice(0, 19)}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}Z`;
}

/** Docker's since/until query value (Unix seconds, optionally with a fraction: "1700000000.5") in ns; undefined when absent or 0. */
export function parseUnixTime(v: string | null | undefined): bigint | undefined {
  if (v === null || v === undefined || v === '') return undefined;
  const m = /^(-?\d+)(?:\.(\d{1,9}))?$/.exec(v.trim());
  if (!m) throw new LxzoneError(`invalid time ${JSON.stringify(v)}: Unix seconds, optionally with a fraction`, { code: 'EINVAL', exitCode: 2 });
  const ns = BigInt(m[1]!) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0') || '0');
  return ns === 0n ? undefined : ns;
}

export interface TimeFilter {
  /** Prefix each line with its time (docker logs -t). */
  timestamps?: boolean;
  /** Only lines written at or after this (ns since the epoch). */
  sinceNs?: bigint;
  /** Only lines written at or before this. */
  untilNs?: bigint;
}

/**
 * One stream's lines as they are read, piece by piece, from one file after
 * another: each line kept or dropped by its time and prefixed with it. A
 * line that goes on in the next piece keeps its first piece's decision.
 */
export class TimedLines {
  private records: TimeRecord[] = [];
  private atLineStart = true;
  private keeping = true;

  constructor(private readonly f: TimeFilter) {}

  /** A new file is read from its start (a rotation, or the first file); its records so far. */
  newFile(records: TimeRecord[]): void {
    this.records = records;
  }

  /** More records of the current file (read before its bytes: the keeper writes them first). */
  moreRecords(records: TimeRecord[]): void {
    if (records.length) this.records = this.records.concat(records);
  }

  /** What was not read is gone: the next byte starts a line. */
  lost(): void {
    this.atLineStart = true;
    this.keeping = true;
  }

  private timeAt(offset: number): bigint {
    // The last record at or before the offset (records are in offset order).
    let lo = 0;
    let hi = this.records.length - 1;
    let hit = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.records[mid]!.offset <= offset) {
        hit = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return hit < 0 ? 0n : this.records[hit]!.ns;
  }

  /** `chunk` read from the current file at `offset`: what of it to show. */
  take(chunk: Buffer, offset: number): Buffer {
    const parts: Buffer[] = [];
    let i = 0;
    while (i < chunk.length) {
      if (this.atLineStart) {
        const t = this.timeAt(offset + i);
        this.keeping = (this.f.sinceNs === undefined || t >= this.f.sinceNs) && (this.f.untilNs === undefined || t <= this.f.untilNs);
        if (this.keeping && this.f.timestamps) parts.push(Buffer.from(`${rfc3339Nano(t)} `));
      }
      const nl = chunk.indexOf(0x0a, i);
      const end = nl < 0 ? chunk.length : nl + 1;
      if (this.keeping) parts.push(chunk.subarray(i, end));
      this.atLineStart = nl >= 0;
      i = end;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }
}
